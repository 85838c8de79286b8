// SIGKILL of a real `spindle start` while a compacted topic is produced to and cleaned every few ms: after
// each restart, kcat reads for every key its last acknowledged value or a later one, nothing that was never
// sent, and no cleaner leftovers remain. CLEANER=false POLICY=delete runs the same loop on the plain log;
// DEBUG_KEEP=dir keeps the data dir, a kcat dump, the acks (value @ offset) and every broker's log on failure.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";

const run = promisify(execFile);
const KEYS = 40;
const CYCLES = Number(process.env.SOAK_CYCLES ?? 4);
const CLEANER = process.env.CLEANER ?? "true";
const ARGS = ["--log-cleaner-enable", CLEANER, "--log-cleaner-backoff-ms", "20"];

async function readTopic(spindle: SpindleProcess): Promise<Map<string, number>> {
  const args = ["-C", "-b", spindle.kafka, "-t", "table", "-e", "-o", "beginning", "-q", "-f", "%k=%s\\n"];
  const { stdout } = await run("kcat", args, { timeout: 30_000, maxBuffer: 64 << 20 });
  const latest = new Map<string, number>();
  for (const line of stdout.split("\n")) {
    if (line === "") continue;
    const [k, v] = line.split("=");
    latest.set(k!, Number(v));
  }
  return latest;
}

test("acknowledged latest values survive SIGKILL during cleaning", async () => {
  let spindle = await startSpindle(ARGS);
  const admin = new Kafka({ clientId: "a", brokers: [spindle.kafka], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      {
        topic: "table",
        configEntries: [
          { name: "cleanup.policy", value: process.env.POLICY ?? "compact" },
          { name: "segment.bytes", value: "1024" },
          { name: "segment.ms", value: "30" },
          { name: "min.cleanable.dirty.ratio", value: "0.01" },
        ],
      },
    ],
  });
  await admin.disconnect();
  const acked = new Map<string, number>();
  let sent = 0;
  let cleanedBeforeKill = 0;
  let ackCount = 0;
  const ackLog: string[] = [];
  let history = "";
  try {
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const kafka = new Kafka({
        clientId: "p",
        brokers: [spindle.kafka],
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
      });
      const producer = kafka.producer();
      await producer.connect();
      let stop = false;
      const producing = (async () => {
        while (!stop) {
          const seq = sent++;
          const key = `k${seq % KEYS}`;
          try {
            const meta = await producer.send({
              topic: "table",
              acks: -1,
              messages: [{ key, value: String(seq) }],
            });
            ackLog.push(`c${cycle} v${seq} @${meta[0]?.baseOffset}`);
            acked.set(key, seq);
            ackCount++;
          } catch {
            return; // the broker died under this send: unacknowledged
          }
        }
      })();
      await new Promise((r) => setTimeout(r, 600 + Math.floor(Math.random() * 600)));
      cleanedBeforeKill += spindle.stderr().split("log cleaned").length - 1;
      history += `--- cycle ${cycle} process\n${spindle.stderr()}\n`;
      await spindle.stop(true);
      stop = true;
      await producing;
      await producer.disconnect().catch(() => undefined);
      console.log(`cycle ${cycle}: sent ${sent} acked ${ackCount}`);

      spindle = await startSpindle(ARGS, spindle.dataDir);
      const latest = await readTopic(spindle);
      for (const [key, seq] of acked) {
        const got = latest.get(key);
        if (process.env.DEBUG_KEEP && !(got !== undefined && got >= seq)) {
          const { cpSync } = await import("node:fs");
          cpSync(spindle.dataDir, process.env.DEBUG_KEEP, { recursive: true });
          await run("sh", [
            "-c",
            `kcat -C -b ${spindle.kafka} -t table -e -o beginning -f '%o %k=%s\\n' > ${process.env.DEBUG_KEEP}/kcat.txt 2>&1`,
          ]);
          const { writeFileSync } = await import("node:fs");
          writeFileSync(`${process.env.DEBUG_KEEP}/acks.txt`, ackLog.join("\n"));
          writeFileSync(
            `${process.env.DEBUG_KEEP}/stderr.txt`,
            `${history}--- after restart\n${spindle.stderr()}`,
          );
        }
        assert.ok(
          got !== undefined && got >= seq,
          `cycle ${cycle}: ${key} reads ${got}, acknowledged ${seq}`,
        );
      }
      for (const [key, seq] of latest) {
        assert.ok(seq < sent && `k${seq % KEYS}` === key, `${key}=${seq} was sent`);
      }
    }
  } catch (e) {
    await spindle.stop(true).catch(() => undefined);
    throw e;
  }
  // recovery of an interrupted swap is clean-crash.test.ts's; here: a graceful stop leaves no copy behind
  // (right after a restart the new broker's cleaner may already be mid-swap, so that is not the moment)
  await spindle.stop();
  const names = readdirSync(join(spindle.dataDir, "topics", "table-0"));
  assert.deepEqual(
    names.filter((n) => n.endsWith(".cleaned") || n.endsWith(".swap")),
    [],
    "no leftover copy",
  );
  if (CLEANER === "true") assert.ok(cleanedBeforeKill > 0, "the cleaner ran while the broker was killed");
});
