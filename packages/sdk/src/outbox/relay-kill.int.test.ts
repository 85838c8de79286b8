// A relay process SIGKILLed mid-batch, after publishing some rows and before marking them: the next relay
// publishes them again — duplicates, never a loss — and a subscriber with an inbox runs once per row, in
// each key's order. On PostgreSQL the killed claim's transaction rolls back; on SQLite its leases expire.
// The broker is the RabbitMQ on 127.0.0.1:5672, so the messages cross a real network connection.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import pg from "pg";
import { deleteRabbitMqNames, RABBITMQ_URL } from "../../../../test/support/rabbitmq.ts";
import type { Bus } from "../bus.ts";
import { connect, memoryInbox } from "../index.ts";
import { uniqueName, waitFor } from "../testing/wait.ts";
import { postgresOutbox } from "./postgres-outbox.ts";
import type { OutboxRelay } from "./relay.ts";
import { sqliteOutbox } from "./sqlite-outbox.ts";

const pgUrl = process.env.SPINDLE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const pgTable = `outbox_kill_${process.pid}_${Date.now()}`;
const dir = mkdtempSync(join(tmpdir(), "spindle-outbox-kill-"));
const buses: Bus[] = [];
const relays: OutboxRelay[] = [];

after(async () => {
  for (const r of relays) await r.close().catch(() => {});
  for (const b of buses) await b.close().catch(() => {});
  const pool = new pg.Pool({ connectionString: pgUrl });
  await pool.query(`DROP TABLE IF EXISTS ${pgTable}`);
  await pool.end();
  rmSync(dir, { recursive: true, force: true });
  await deleteRabbitMqNames(`-${process.pid}-`);
});

const ROWS = 60;
const KEYS = 5;
const STALL_AFTER = 7;

interface Side {
  kind: "pg" | "sqlite";
  target: string;
  table: string;
  /** Adds ROWS rows for `topic` in transactions of the application; returns their ids. */
  fill(topic: string): Promise<string[]>;
  relay(bus: Bus): Promise<OutboxRelay>;
}

function runChild(side: Side, topicBus: string): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      "tsx",
      fileURLToPath(new URL("./fixtures/relay-kill-child.ts", import.meta.url)),
      side.kind,
      side.target,
      side.table,
      topicBus,
      String(STALL_AFTER),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  return new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (b: Buffer) => {
      if (!b.toString().includes("published")) return;
      child.on("exit", () => resolve());
      child.kill("SIGKILL");
    });
    child.on(
      "exit",
      (code, signal) => signal !== "SIGKILL" && reject(new Error(`child exited with ${code}`)),
    );
  });
}

function killCase(side: Side): void {
  it(`${side.kind}: killed between publish and mark → duplicates, no loss, one run each behind an inbox`, async () => {
    const bus = await connect(RABBITMQ_URL);
    buses.push(bus);
    const topic = uniqueName("outbox-kill");
    const raw: string[] = [];
    const once: Array<{ k: number; n: number }> = [];
    await bus.subscribe(topic, { group: "raw" }, (m) => {
      raw.push(m.id);
    });
    await bus.subscribe(topic, { group: "once", idempotent: memoryInbox() }, (m) => {
      once.push(m.data as { k: number; n: number });
    });
    const ids = await side.fill(topic);
    await runChild(side, RABBITMQ_URL);
    assert.ok(raw.length <= ROWS, "the child published part of a batch");
    relays.push(await side.relay(bus));
    await waitFor("every row behind the inbox", () => once.length >= ROWS, 60_000);
    await waitFor("every id", () => new Set(raw).size === ROWS, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(new Set(raw), new Set(ids), "no loss");
    assert.ok(raw.length >= ROWS + STALL_AFTER, `duplicates: ${raw.length} deliveries of ${ROWS} rows`);
    assert.equal(once.length, ROWS, "the inbox ran each row once");
    const last = new Map<number, number>();
    for (const { k, n } of once) {
      assert.ok(n > (last.get(k) ?? -1), `key ${k}: ${n} after ${last.get(k)}`);
      last.set(k, n);
    }
  });
}

describe("outbox relay killed mid-batch", () => {
  const rowsFor = (topic: string) =>
    Array.from({ length: ROWS }, (_, i) => ({
      topic,
      key: `k${i % KEYS}`,
      data: { k: i % KEYS, n: Math.floor(i / KEYS) },
    }));

  const pgSide: Side = {
    kind: "pg",
    target: pgUrl,
    table: pgTable,
    fill: async (topic) => {
      const outbox = await postgresOutbox(pgUrl, { table: pgTable });
      const ids: string[] = [];
      const client = await outbox.pool.connect();
      for (let i = 0; i < ROWS; i += 10) {
        await client.query("BEGIN");
        ids.push(...(await outbox.addAll(client, rowsFor(topic).slice(i, i + 10))));
        await client.query("COMMIT");
      }
      client.release();
      await outbox.close();
      return ids;
    },
    relay: async (bus) => (await postgresOutbox(pgUrl, { table: pgTable })).relay(bus),
  };
  const file = join(dir, "app.db");
  const sqliteSide: Side = {
    kind: "sqlite",
    target: file,
    table: "outbox",
    fill: async (topic) => {
      const db = new Database(file);
      db.pragma("journal_mode = WAL");
      const outbox = await sqliteOutbox(db, { table: "outbox" });
      const ids: string[] = [];
      for (let i = 0; i < ROWS; i += 10) {
        db.transaction(() => ids.push(...outbox.addAll(db, rowsFor(topic).slice(i, i + 10))))();
      }
      db.close();
      return ids;
    },
    relay: async (bus) => (await sqliteOutbox(file, { table: "outbox" })).relay(bus),
  };
  killCase(pgSide);
  killCase(sqliteSide);
});
