// The saga suite on SQLite (a temporary file, one table set per store) over embedded:// (a Spindle broker
// inside this test process on a temporary data directory).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { connect } from "../index.ts";
import { sagaStoreContract } from "../testing/saga-contract.ts";
import { sqliteSagaStore } from "./sqlite-saga-store.ts";

const dir = mkdtempSync(join(tmpdir(), "spindle-sqlite-sagas-"));
const file = join(dir, "app.db");
const url = `embedded://${join(dir, "broker")}`;
let n = 0;

sagaStoreContract("sqlite store on embedded://", {
  store: () => sqliteSagaStore(file, { table: `sagas_${n++}` }),
  connect: () => connect(url),
  stepTimeoutMs: 1000,
});

after(() => rmSync(dir, { recursive: true, force: true }));
