// Runs the Debian-client conformance scripts (python3-pika, amqp-tools) against a fresh `spindle start`.
// Usage: node --import tsx test/conformance/amqp/run-clients.ts [--port N to use a running broker instead]
// Each script prints "N passed, N failed"; the exit code is non-zero when any of them failed.

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startSpindle } from "../../support/spindle-process.ts";

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const portArg = process.argv.indexOf("--port");
const spindle = portArg >= 0 ? null : await startSpindle();
const port = String(portArg >= 0 ? process.argv[portArg + 1] : spindle?.port);
let failed = false;
try {
  for (const [title, cmd, args] of [
    ["python3-pika", "/usr/bin/python3", [here("pika-scenarios.py"), port]],
    ["amqp-tools", "bash", [here("amqp-tools.sh"), port]],
  ] as const) {
    console.log(`# ${title}`);
    const r = spawnSync(cmd, [...args], { stdio: "inherit", timeout: 120_000 });
    if (r.status !== 0) failed = true;
  }
} finally {
  await spindle?.stop();
}
process.exit(failed ? 1 : 0);
