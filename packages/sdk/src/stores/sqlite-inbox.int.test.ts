import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import Database from "better-sqlite3";
import { inboxStoreContract } from "../testing/inbox-contract.ts";
import { sqliteInbox } from "./sqlite-inbox.ts";

const dir = mkdtempSync(join(tmpdir(), "spindle-sqlite-inbox-"));
const file = join(dir, "inbox.db");
after(() => rmSync(dir, { recursive: true, force: true }));

const setup = new Database(file);
setup.exec("CREATE TABLE IF NOT EXISTS effects (value TEXT NOT NULL)");
setup.close();

inboxStoreContract("sqlite (transactional)", {
  open: () => sqliteInbox(file),
  durable: true,
  transactional: {
    write: async (tx, value) => {
      (tx as Database.Database).prepare("INSERT INTO effects (value) VALUES (?)").run(value);
    },
    count: async () => {
      const db = new Database(file, { readonly: true });
      const n = (db.prepare("SELECT count(*) AS n FROM effects").get() as { n: number }).n;
      db.close();
      return n;
    },
  },
});

inboxStoreContract("sqlite (not transactional)", {
  open: () => sqliteInbox(file, { transactional: false, table: "loose_inbox" }),
  durable: true,
});
