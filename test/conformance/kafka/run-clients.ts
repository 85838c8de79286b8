// Runs the Debian-client Kafka conformance scripts (kcat, python3-kafka, python3-confluent-kafka) against
// a fresh `spindle start`, then the SIGKILL crash test. Usage: node --import tsx test/conformance/kafka/run-clients.ts
// Each script prints "N passed, N failed"; the exit code is non-zero when any of them failed.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startSpindle } from "../../support/spindle-process.ts";

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const spindle = await startSpindle(["--default-partitions", "1"]);
let failed = false;
try {
  for (const [title, cmd, args] of [
    ["kcat", "bash", [here("kcat.sh"), spindle.kafka]],
    [
      "python3-kafka + python3-confluent-kafka",
      "/usr/bin/python3",
      [here("python_clients.py"), spindle.kafka],
    ],
  ] as const) {
    console.log(`# ${title}`);
    const r = spawnSync(cmd, [...args], { stdio: "inherit", timeout: 300_000 });
    if (r.status !== 0) failed = true;
  }
} finally {
  await spindle.stop();
}
for (const idempotent of ["0", "1"]) {
  const mode = idempotent === "1" ? "idempotent, no duplicates either" : "not idempotent";
  console.log(`# crash test (librdkafka producer, acks=all, ${mode}, SIGKILL x4)`);
  const crash = spawnSync(process.execPath, ["--import", "tsx", here("crash.ts")], {
    stdio: "inherit",
    timeout: 600_000,
    env: { ...process.env, CRASH_IDEMPOTENT: idempotent },
  });
  if (crash.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
