// The differential suite: the same scenarios against RabbitMQ (127.0.0.1:5672) and a fresh `spindle start`;
// what the client observes must match, apart from the differences listed in docs/amqp-differences.md.
// Usage: node --import tsx test/conformance/amqp/differential.ts [scenario-substring]; prints N passed, N failed.

import { randomBytes } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { startSpindle } from "../../support/spindle-process.ts";
import { runScenario, type Scenario } from "./harness.ts";
import { CORE } from "./scenarios-core.ts";
import { DLX } from "./scenarios-dlx.ts";
import { EXTRA } from "./scenarios-extra.ts";
import { HARDENING } from "./scenarios-hardening.ts";
import { ROUTING } from "./scenarios-routing.ts";

const RABBIT = process.env.RABBITMQ_URL ?? "amqp://guest:guest@127.0.0.1:5672";
const filter = process.argv[2];
const scenarios: Scenario[] = [...CORE, ...ROUTING, ...DLX, ...EXTRA, ...HARDENING].filter(
  (s) => !filter || s.name.includes(filter),
);

const spindle = await startSpindle();
let passed = 0;
let failed = 0;
try {
  for (const s of scenarios) {
    const runId = `diff${randomBytes(4).toString("hex")}`;
    const rabbit = await runScenario(RABBIT, runId, s);
    const ours = await runScenario(spindle.url, runId, s);
    if (rabbit.error === undefined && isDeepStrictEqual(rabbit, ours)) {
      passed++;
      console.log(`ok   ${s.name}`);
      if (process.env.VERBOSE) for (const o of ours.observations) console.log(`     ${o}`);
      continue;
    }
    failed++;
    console.log(`FAIL ${s.name}`);
    if (rabbit.error) console.log(`  rabbitmq error: ${rabbit.error}`);
    if (ours.error) console.log(`  spindle error:  ${ours.error}`);
    const n = Math.max(rabbit.observations.length, ours.observations.length);
    for (let i = 0; i < n; i++) {
      const [r, o] = [rabbit.observations[i], ours.observations[i]];
      if (r === o) continue;
      console.log(`  rabbitmq: ${r}\n  spindle:  ${o}`);
    }
  }
} finally {
  await spindle.stop();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
