// The RabbitMQ on 127.0.0.1:5672 as tests use it: its URL, and removal of what a test run declared there.
// Invariant: only queues and exchanges whose names carry this process's marker are deleted, never others.

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import amqp from "amqplib";

export const RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672";

const run = promisify(execFile);

async function names(kind: "queues" | "exchanges"): Promise<string[]> {
  const { stdout } = await run("rabbitmqctl", ["-q", `list_${kind}`, "name", "--no-table-headers"], {
    timeout: 60_000,
  });
  return stdout.split("\n").filter((n) => n !== "");
}

/**
 * Deletes the queues and exchanges whose names contain `marker` (the tests' unique names carry the pid
 * and a random part); returns how many. rabbitmqctl lists them: AMQP itself cannot.
 */
export async function deleteRabbitMqNames(marker: string): Promise<number> {
  const [queues, exchanges] = [await names("queues"), await names("exchanges")];
  const conn = await amqp.connect(RABBITMQ_URL);
  conn.on("error", () => {});
  let n = 0;
  try {
    const ch = await conn.createChannel();
    for (const q of queues.filter((q) => q.includes(marker))) {
      await ch.deleteQueue(q);
      n++;
    }
    for (const e of exchanges.filter((e) => e.includes(marker))) {
      await ch.deleteExchange(e);
      n++;
    }
  } finally {
    await conn.close().catch(() => {});
  }
  return n;
}

/**
 * Closes, from the broker's side, every connection whose client-provided name contains `marker` (as an
 * operator would with `rabbitmqctl close_connection`); returns how many. The broker is not restarted.
 */
export async function closeRabbitMqConnections(marker: string, why = "closed by test"): Promise<number> {
  const { stdout } = await run(
    "rabbitmqctl",
    ["-q", "list_connections", "pid", "client_properties", "--no-table-headers"],
    { timeout: 60_000 },
  );
  const pids = stdout
    .split("\n")
    .filter((line) => line.includes(marker))
    .map((line) => line.split("\t")[0] ?? "")
    .filter((pid) => pid !== "");
  for (const pid of pids) await run("rabbitmqctl", ["-q", "close_connection", pid, why], { timeout: 60_000 });
  return pids.length;
}
