// Crash test: a librdkafka producer (acks=all; CRASH_IDEMPOTENT=1 adds idempotence and a no-duplicates check) runs while Spindle is SIGKILLed and restarted several
// times on the same port and data dir; afterwards every acknowledged record must be readable at the
// partition and offset it was acknowledged at. Usage: node --import tsx test/conformance/kafka/crash.ts
// Prints "N passed, N failed" (one check per acknowledged record) and exits non-zero on any failure.

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startSpindle } from "../../support/spindle-process.ts";

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const RECORDS = Number(process.env.CRASH_RECORDS ?? 60_000);
const KILLS = Number(process.env.CRASH_KILLS ?? 4);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const dataDir = mkdtempSync(join(tmpdir(), "spindle-crash-"));
const work = mkdtempSync(join(tmpdir(), "spindle-crash-out-"));
const port = await freePort();
const args = ["--kafka-port", String(port), "--default-partitions", "3"];
let spindle = await startSpindle(args, dataDir);
const acked = join(work, "acked.txt");
const producer = spawn(
  "/usr/bin/python3",
  [here("crash_producer.py"), "produce", spindle.kafka, "crash", String(RECORDS), acked],
  {
    stdio: "inherit",
  },
);
const producerDone = new Promise<number>((resolve) => producer.once("exit", (code) => resolve(code ?? 1)));
for (let i = 0; i < KILLS; i++) {
  await new Promise((r) => setTimeout(r, 700 + Math.random() * 1500));
  await spindle.stop(true);
  console.log(`# SIGKILL ${i + 1}/${KILLS}`);
  await new Promise((r) => setTimeout(r, 200));
  spindle = await startSpindle(args, dataDir);
}
const producerCode = await producerDone;
const ackedCount = readFileSync(acked, "utf8").split("\n").filter(Boolean).length;
console.log(`# producer exit ${producerCode}, ${ackedCount} acknowledged`);
const verify = spawnSync(
  "/usr/bin/python3",
  [here("crash_producer.py"), "verify", spindle.kafka, "crash", acked],
  {
    stdio: "inherit",
    timeout: 300_000,
  },
);
await spindle.stop();
rmSync(dataDir, { recursive: true, force: true });
rmSync(work, { recursive: true, force: true });
process.exit(verify.status === 0 ? 0 : 1);
