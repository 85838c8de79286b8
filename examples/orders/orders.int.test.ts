// `npm run example:orders` end to end, as a user runs it (built @spindle/sdk, a fresh process): on the
// defaults (embedded broker, SQLite) and on RabbitMQ + PostgreSQL with the payment service in a process
// of its own that is SIGKILLed in the middle of a charge — inside its transaction, and after its commit
// but before its reply — and must lose no order and charge no order twice.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { deleteRabbitMqNames, RABBITMQ_URL } from "../../test/support/rabbitmq.ts";
import { dropTables, tablesOf } from "./schema.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const PG_URL = process.env.SPINDLE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  killed: number[];
}

/** Runs the example; SIGKILLs each payment process that says it is holding a charge. */
function runExample(env: Record<string, string>): Promise<Run> {
  const child = spawn(process.execPath, ["--import", "tsx", "examples/orders/main.ts"], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const run: Run = { code: null, stdout: "", stderr: "", killed: [] };
  child.stdout.on("data", (c: Buffer) => {
    run.stdout += c.toString();
  });
  createInterface({ input: child.stderr }).on("line", (line) => {
    run.stderr += `${line}\n`;
    const held = /^payment: holding .* pid=(\d+)$/u.exec(line);
    if (held) {
      process.kill(Number(held[1]), "SIGKILL");
      run.killed.push(Number(held[1]));
    }
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
  return new Promise((resolve) => {
    child.on("close", (code) => {
      clearTimeout(timer);
      run.code = code;
      resolve(run);
    });
  });
}

const runId = () => `t${process.pid.toString(36)}${randomBytes(2).toString("hex")}`;

describe("example:orders", { concurrency: true }, () => {
  it("runs on the defaults (embedded broker, SQLite) and prints the counts", async () => {
    const r = await runExample({});
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "orders: 11 placed, 8 completed, 3 compensated, 1 dead-lettered, 1 redriven\n");
    assert.match(r.stderr, /poison message failed 4× \(retries after \d+ ms, \d+ ms, \d+ ms\)/u);
    assert.match(
      r.stderr,
      /GET \/users\/bob → \{"userId":"bob","name":"Bob","email":"bob@example.com","balance":40/u,
    );
    assert.match(r.stderr, /GET \/users\/bob\/transactions → 2 rows: \["CREDIT 100","DEBIT 60"\]/u);
  });

  for (const where of ["in-tx", "after-commit"] as const) {
    it(`on RabbitMQ + PostgreSQL, a payment process SIGKILLed ${where} loses no order and charges none twice`, async () => {
      const id = runId();
      const dir = mkdtempSync(join(tmpdir(), "spindle-orders-test-"));
      const pool = new pg.Pool({ connectionString: PG_URL, max: 2 });
      const t = tablesOf(`${id}_`);
      try {
        const r = await runExample({
          BUS_URL: RABBITMQ_URL,
          DATABASE_URL: PG_URL,
          ORDERS_RUN_ID: id,
          ORDERS_DIR: dir,
          ORDERS_KEEP: "1",
          ORDERS_EXTRA: "10",
          ORDERS_PAYMENT_PROCESS: "1",
          ORDERS_PAYMENT_HOLD: `5:${where}`,
        });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.killed.length, 1, r.stderr);
        assert.match(r.stderr, /payment processes started: 2/u);
        assert.equal(
          r.stdout,
          "orders: 21 placed, 18 completed, 3 compensated, 1 dead-lettered, 1 redriven\n",
        );
        // read the database ourselves: every order ended, each completed one charged exactly once
        const orders = await pool.query(`SELECT id, status FROM ${t.orders}`);
        assert.equal(orders.rowCount, 21);
        assert.deepEqual(
          orders.rows.filter((o) => o.status === "pending"),
          [],
        );
        const charges = await pool.query(
          `SELECT data->>'orderId' AS order_id, COUNT(*)::int AS n FROM ${t.events} ` +
            "WHERE type = 'BALANCE_DEDUCTED' GROUP BY 1",
        );
        const completed = orders.rows
          .filter((o) => o.status === "completed")
          .map((o) => o.id)
          .sort();
        assert.deepEqual(charges.rows.map((c) => c.order_id).sort(), completed);
        assert.deepEqual(
          charges.rows.filter((c) => c.n !== 1),
          [],
        );
      } finally {
        const db = { run: (sql: string) => pool.query(sql).then(() => 0) };
        await dropTables(db as never, t).catch(() => {});
        await pool.end();
        await deleteRabbitMqNames(id).catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
