// A projector process SIGKILLed in the middle of a batch, on SQLite and on PostgreSQL: the batch's
// read-model writes vanish with its uncommitted checkpoint, the read model holds exactly the events up to
// the last saved checkpoint, and after a restart it equals a read model built from scratch — no event
// lost, none applied twice (each account's event count and last version say so).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { waitForAsync } from "../testing/wait.ts";
import { type Kind, type Ledger, openLedger } from "./fixtures/ledger.ts";
import { project } from "./projector.ts";

const pgUrl = process.env.SPINDLE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const dir = mkdtempSync(join(tmpdir(), "spindle-projector-kill-"));
const pgPrefixes: string[] = [];
const ledgers: Ledger[] = [];

after(async () => {
  for (const l of ledgers) await l.close().catch(() => {});
  const pool = new pg.Pool({ connectionString: pgUrl });
  for (const p of pgPrefixes) {
    const tables = ["events", "events_streams", "events_snapshots", "checkpoints", "model", "scratch"];
    await pool.query(`DROP TABLE IF EXISTS ${tables.map((t) => `${p}_${t}`).join(", ")}`);
  }
  await pool.end();
  rmSync(dir, { recursive: true, force: true });
});

const ACCOUNTS = 12;
const EVENTS = 600;
const BATCH = 50;
/** Three batches committed, the fourth half applied. */
const STALL_AT = 3 * BATCH + 25;

/** Runs the child until it hangs at STALL_AT, then SIGKILLs it. */
function runAndKill(kind: Kind, target: string, prefix: string): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      "tsx",
      fileURLToPath(new URL("./fixtures/projector-kill-child.ts", import.meta.url)),
      kind,
      target,
      prefix,
      `${prefix}_model`,
      String(BATCH),
      String(STALL_AT),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  return new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (b: Buffer) => {
      if (!b.toString().includes("applied")) return;
      child.on("exit", () => resolve());
      child.kill("SIGKILL");
    });
    child.on(
      "exit",
      (code, signal) => signal !== "SIGKILL" && reject(new Error(`child exited with ${code}`)),
    );
  });
}

async function catchUp(ledger: Ledger, name: string, model: string): Promise<void> {
  const p = await project(ledger.events, ledger.projection(name, model), ledger.store, { batchSize: BATCH });
  await p.caughtUp;
  await p.close();
}

async function killedMidBatch(kind: Kind, target: string, prefix: string): Promise<void> {
  const ledger = await openLedger(kind, target, prefix);
  ledgers.push(ledger);
  await ledger.createModel(`${prefix}_model`);
  await ledger.createModel(`${prefix}_scratch`);
  for (let i = 0; i < EVENTS; i += 5) {
    const events = Array.from({ length: 5 }, (_, j) => ({
      type: "Deposited",
      data: { amount: ((i + j) * 7) % 100 },
    }));
    await ledger.events.append(`acct-${(i / 5) % ACCOUNTS}`, events);
  }
  // PostgreSQL's global order shows them once older write transactions on the server end: wait, bounded,
  // so countAfter below counts every event the projector has left
  await waitForAsync(
    "every event in the global order",
    async () => (await ledger.events.countAfter()) === EVENTS,
  );

  await runAndKill(kind, target, prefix);

  const checkpoint = await ledger.store.loadCheckpoint("ledger");
  assert.ok(checkpoint !== undefined, "the batches before the kill saved a checkpoint");
  const applied = EVENTS - (await ledger.events.countAfter(checkpoint));
  assert.equal(applied, 3 * BATCH, "the checkpoint is the last committed batch's last event");
  const killed = await ledger.rows(`${prefix}_model`);
  assert.equal(
    killed.reduce((n, r) => n + r.events, 0),
    applied,
    "the read model holds exactly the events up to its checkpoint (the killed batch's writes rolled back)",
  );

  await catchUp(ledger, "ledger", `${prefix}_model`);
  await catchUp(ledger, "scratch", `${prefix}_scratch`);
  const restarted = await ledger.rows(`${prefix}_model`);
  assert.deepEqual(restarted, await ledger.rows(`${prefix}_scratch`));
  assert.equal(restarted.length, ACCOUNTS);
  for (const r of restarted) {
    assert.equal(r.events, EVENTS / ACCOUNTS, `${r.account}: every event applied once`);
    assert.equal(r.lastVersion, EVENTS / ACCOUNTS, `${r.account}: applied up to its stream's last version`);
  }
}

describe("a projector SIGKILLed mid-batch", () => {
  it("on SQLite: restarts from its checkpoint into the read model a rebuild gives", async () => {
    await killedMidBatch("sqlite", join(dir, "ledger.db"), "ledger");
  });

  it("on PostgreSQL: restarts from its checkpoint into the read model a rebuild gives", async () => {
    const prefix = `projkill_${process.pid}_${Date.now()}`;
    pgPrefixes.push(prefix);
    await killedMidBatch("pg", pgUrl, prefix);
  });
});
