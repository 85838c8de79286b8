// An orchestrator process SIGKILLed mid-saga (every saga waiting for its charge reply): a new orchestrator
// on the same store resumes them — re-sends the pending commands (the services' inboxes drop the repeats),
// takes the replies the dead one never read from the durable reply queue, and re-arms the charge timeouts
// from their persisted deadlines, so the silent ones are compensated in reverse. On PostgreSQL and SQLite;
// the broker is the RabbitMQ on 127.0.0.1:5672, so every message crosses a real network connection.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { deleteRabbitMqNames, RABBITMQ_URL } from "../../../../test/support/rabbitmq.ts";
import type { Bus } from "../bus.ts";
import { connect, memoryInbox } from "../index.ts";
import { uniqueName, waitFor } from "../testing/wait.ts";
import { CHARGE_TIMEOUT_MS, type KillOrder, killSaga } from "./fixtures/kill-saga.ts";
import { type SagaOrchestrator, sagaOrchestrator } from "./orchestrator.ts";
import { postgresSagaStore } from "./postgres-saga-store.ts";
import type { SagaStore } from "./saga-store.ts";
import { sqliteSagaStore } from "./sqlite-saga-store.ts";

const pgUrl = process.env.SPINDLE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const pgTable = `sagas_kill_${process.pid}_${Date.now()}`;
const dir = mkdtempSync(join(tmpdir(), "spindle-saga-kill-"));
const closers: Array<() => Promise<void>> = [];

after(async () => {
  for (const c of closers.reverse()) await c().catch(() => {});
  const pool = new pg.Pool({ connectionString: pgUrl });
  await pool.query(`DROP TABLE IF EXISTS ${pgTable}, ${pgTable}_timeouts`);
  await pool.end();
  rmSync(dir, { recursive: true, force: true });
  await deleteRabbitMqNames(`-${process.pid}-`);
});

const ORDERS: KillOrder[] = Array.from({ length: 6 }, (_, i) => ({ orderId: `o${i}`, silent: i >= 4 }));

function runChild(args: string[]): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      "tsx",
      fileURLToPath(new URL("./fixtures/saga-kill-child.ts", import.meta.url)),
      ...args,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  return new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (b: Buffer) => {
      if (!b.toString().includes("charging")) return;
      child.on("exit", () => resolve());
      child.kill("SIGKILL");
    });
    child.on(
      "exit",
      (code, signal) => signal !== "SIGKILL" && reject(new Error(`child exited with ${code}`)),
    );
  });
}

/** Inventory and payment in one service behind an inbox; charges wait until `release` is called. */
async function services(bus: Bus, topic: string) {
  const seen: string[] = [];
  let release: () => void = () => {};
  const released = new Promise<void>((r) => {
    release = r;
  });
  await bus.subscribe(
    topic,
    { group: "svc", concurrency: 20, retry: false, idempotent: memoryInbox() },
    async (m) => {
      const order = m.data as KillOrder;
      seen.push(`${m.type} ${order.orderId}`);
      if (m.type === "Charge") {
        await released;
        // a silent payment service answers after the charge timeout: a late reply, ignored
        if (order.silent) await new Promise((r) => setTimeout(r, CHARGE_TIMEOUT_MS + 1000));
      }
      return { reservation: `r-${order.orderId}` };
    },
  );
  return { seen, release };
}

function killCase(
  kind: "pg" | "sqlite",
  target: string,
  table: string,
  open: () => Promise<SagaStore>,
): void {
  it(`${kind}: a new orchestrator finishes what a SIGKILLed one left`, async () => {
    const bus = await connect(RABBITMQ_URL);
    closers.push(() => bus.close());
    const topic = uniqueName("saga-kill");
    const name = uniqueName("orders");
    const svc = await services(bus, topic);
    await runChild([kind, target, table, RABBITMQ_URL, name, topic, JSON.stringify(ORDERS)]);
    await waitFor(
      "every charge at the payment service",
      () => svc.seen.filter((s) => s.startsWith("Charge")).length >= 6,
    );
    const store = await open();
    closers.push(() => store.close());
    const confirmed: string[] = [];
    const sagas: SagaOrchestrator = await sagaOrchestrator(bus, {
      store,
      sagas: [killSaga(topic, (id) => confirmed.push(id))],
      name,
    });
    closers.push(() => sagas.close());
    svc.release();
    const deadline = Date.now() + 30_000;
    let states = await sagas.list();
    while (
      states.some((s) => s.status === "running" || s.status === "compensating") &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 50));
      states = await sagas.list();
    }
    assert.deepEqual(
      states.map((s) => `${s.id} ${s.status}`),
      ["o0 completed", "o1 completed", "o2 completed", "o3 completed", "o4 compensated", "o5 compensated"],
    );
    assert.deepEqual(confirmed.sort(), ["o0", "o1", "o2", "o3"]);
    for (const s of states.slice(4)) {
      assert.match(s.error ?? "", /charge: no reply within 3000 ms/u);
      assert.deepEqual(
        s.history.map((e) => `${e.step} ${e.event}`),
        ["0 started", "0 succeeded", "1 timed-out", "1 compensated", "0 compensated"],
      );
    }
    for (const o of ORDERS) {
      assert.equal(
        svc.seen.filter((x) => x === `Reserve ${o.orderId}`).length,
        1,
        `one reserve of ${o.orderId}`,
      );
      assert.equal(
        svc.seen.filter((x) => x === `Charge ${o.orderId}`).length,
        1,
        `one charge of ${o.orderId}`,
      );
    }
    assert.deepEqual(svc.seen.filter((x) => x.startsWith("Refund") || x.startsWith("Release")).sort(), [
      "Refund o4",
      "Refund o5",
      "Release o4",
      "Release o5",
    ]);
  });
}

describe("saga orchestrator killed mid-saga", () => {
  killCase("pg", pgUrl, pgTable, () => postgresSagaStore(pgUrl, { table: pgTable }));
  const file = join(dir, "app.db");
  killCase("sqlite", file, "sagas", () => sqliteSagaStore(file, { table: "sagas" }));
});
