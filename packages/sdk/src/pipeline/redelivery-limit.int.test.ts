// A poison message that kills its consumer's process: each restart gets it again, until it has been
// redelivered more than maxRedeliveries times — then it is in the dead-letter queue with the reason and
// the messages published after it were processed. Real processes, each on a real broker: embedded://
// (the broker dies with the process and recovers its directory) and amqp:// → RabbitMQ (classic queues,
// where the SDK counts redeliveries in a header it republishes with). The embedded broker records that it
// handed a message out a few ms later (its ack log's group commit): there the handler dies 300 ms in;
// RabbitMQ outlives its client, so there the process exits at once.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { deleteRabbitMqNames, RABBITMQ_URL } from "../../../../test/support/rabbitmq.ts";
import { uniqueName } from "../testing/wait.ts";

const MAX = 2;
const dir = mkdtempSync(join(tmpdir(), "spindle-poison-"));
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await deleteRabbitMqNames(`-${process.pid}-`);
});

interface Run {
  readonly code: number | null;
  readonly lines: string[];
}

function runChild(url: string, topic: string, crashMs: number, publish: boolean): Promise<Run> {
  const args = [url, topic, "workers", String(MAX), "1500", String(crashMs), ...(publish ? ["publish"] : [])];
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

for (const [name, url, crashMs] of [
  ["embedded://", `embedded://${dir}`, 300],
  ["amqp:// → RabbitMQ", RABBITMQ_URL, 0],
] as const) {
  describe(`poison message on ${name}`, () => {
    it("is dead-lettered after maxRedeliveries crashes; the messages behind it are processed", async () => {
      const topic = uniqueName("poison");
      const runs: Run[] = [];
      for (let i = 0; i < MAX + 4; i++) {
        const run = await runChild(url, topic, crashMs, i === 0);
        runs.push(run);
        if (run.code === 0) break;
      }
      const crashes = runs.filter((r) => r.code === 3).length;
      const last = runs.at(-1) as Run;
      assert.equal(last.code, 0, `the last run ends cleanly: ${JSON.stringify(runs)}`);
      // delivered at redelivery counts 0..MAX, each time crashing; the next is dead-lettered
      assert.equal(crashes, MAX + 1, `crashes: ${JSON.stringify(runs)}`);
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
        assert.match(d.message, new RegExp(`redelivered ${MAX + 1} times .*maxRedeliveries ${MAX}`));
      }
    });
  });
}
