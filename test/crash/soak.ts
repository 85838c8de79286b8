// `npm run soak`: the AMQP + Kafka kill -9 loop of mixed-kill.ts for SOAK_CYCLES cycles (200 by default),
// a line per cycle and a summary table; exits non-zero if anything confirmed or acknowledged was lost.

import { formatReport, runMixedKill } from "./mixed-kill.ts";

const cycles = Number(process.env.SOAK_CYCLES ?? 200);
const r = await runMixedKill(cycles, (line) => console.log(line));
console.log(`\n${formatReport(r)}`);
for (const f of r.failures) console.log(`FAIL ${f}`);
process.exit(r.failures.length === 0 ? 0 : 1);
