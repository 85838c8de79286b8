// A poison message that kills its consumer's process: each restart gets it again, until it has been
// redelivered more than maxRedeliveries times — then it is in the dead-letter queue with the reason and
// the messages published after it were processed. Real processes, each on a real broker: embedded://
// (the broker dies with the process and recovers its directory) and amqp:// → RabbitMQ (classic queues,
// where the SDK counts redeliveries in a header it republishes with). Every handler exits its process at
// once: on embedded:// the broker dies with it, and counts the delivery only because it wrote that it
// handed the message out before the frames left (its ack log's delivered mark; written a few ms later,
// the mark was lost with the process and the poison message looped forever).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { deleteNatsStreams, NATS_URL } from "../../../../test/support/nats.ts";
import { deleteRabbitMqNames, RABBITMQ_URL } from "../../../../test/support/rabbitmq.ts";
import { uniqueName } from "../testing/wait.ts";

const dir = mkdtempSync(join(tmpdir(), "spindle-poison-"));
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await deleteRabbitMqNames(`-${process.pid}-`);
  await deleteNatsStreams(`-${process.pid}-`);
});

interface Case {
  readonly name: string;
  readonly url: string;
  readonly max: number;
  /** How long the handler of the poison message runs before it kills the process. */
  readonly crashMs: number;
  /** A run ends once nothing arrived for this long (past the broker's redelivery delay). */
  readonly idleMs: number;
}

const CASES: Case[] = [
  { name: "embedded://", url: `embedded://${dir}`, max: 2, crashMs: 0, idleMs: 1_500 },
  { name: "amqp:// → RabbitMQ", url: RABBITMQ_URL, max: 2, crashMs: 0, idleMs: 1_500 },
  { name: "nats:// → JetStream", url: NATS_URL, max: 0, crashMs: 0, idleMs: 35_000 },
];

interface Run {
  readonly code: number | null;
  readonly lines: string[];
}

function runChild(c: Case, topic: string, publish: boolean): Promise<Run> {
  const args = [c.url, topic, "workers", String(c.max), String(c.idleMs), String(c.crashMs)];
  if (publish) args.push("publish");
  const child = spawn(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      "tsx",
      fileURLToPath(new URL("./fixtures/poison-child.ts", import.meta.url)),
      ...args,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout.on("data", (b: Buffer) => {
    out += b.toString();
  });
  return new Promise((resolve) =>
    child.on("exit", (code) => resolve({ code, lines: out.split("\n").filter((l) => l !== "") })),
  );
}

// the brokers are separate, so the cases run side by side (the NATS one waits out ack waits)
describe("a poison message that kills its process", { concurrency: true }, () => {
  for (const c of CASES) {
    it(`on ${c.name}: is dead-lettered after maxRedeliveries crashes; the ones behind it are processed`, async () => {
      const topic = uniqueName("poison");
      const runs: Run[] = [];
      for (let i = 0; i < c.max + 4; i++) {
        const run = await runChild(c, topic, i === 0);
        runs.push(run);
        if (run.code === 0) break;
      }
      const crashes = runs.filter((r) => r.code === 3).length;
      const last = runs.at(-1) as Run;
      assert.equal(last.code, 0, `the last run ends cleanly: ${JSON.stringify(runs)}`);
      // delivered at redelivery counts 0..max, each time crashing; the next is dead-lettered
      assert.equal(crashes, c.max + 1, `crashes: ${JSON.stringify(runs)}`);
      const processed = runs.flatMap((r) => r.lines.filter((l) => l.startsWith("processed ")));
      assert.deepEqual(
        [...new Set(processed)].sort(),
        ["processed 1", "processed 2", "processed 3"],
        "the messages behind the poison one",
      );
      const dead = JSON.parse((last.lines.find((l) => l.startsWith("dead ")) ?? "dead []").slice(5)) as {
        id: string;
        name: string;
        message: string;
      }[];
      assert.ok(dead.length >= 1, "the poison message is in the DLQ");
      for (const d of dead) {
        assert.equal(d.id, `poison-${topic}`);
        assert.equal(d.name, "RedeliveryLimitError");
        assert.match(d.message, new RegExp(`redelivered ${c.max + 1} times .*maxRedeliveries ${c.max}`));
      }
    });
  }
});
