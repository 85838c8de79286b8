// One measurement of bench/sdk.ts in its own process: one system (the SDK on embedded:// or amqp://,
// BullMQ, raw amqplib) runs a warm-up pass, then the measured pass. Invariant: prints exactly one JSON
// result line on stdout, and removes what it created (data dir, Redis queue, AMQP exchange and queue).

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { type BenchTarget, type OnMessage, targets } from "./sdk-targets.ts";

export type SystemName = "sdk-embedded" | "bullmq" | "amqplib" | "sdk-amqp";

export interface SdkBenchSpec {
  readonly system: SystemName;
  /** measured messages */
  readonly count: number;
  /** messages of the unmeasured pass before (0: none) */
  readonly warmup: number;
  readonly bodyBytes: number;
  readonly concurrency: number;
  /** publishes outstanding at once (SDK, amqplib), or jobs per addBulk call (BullMQ) */
  readonly window: number;
  /** every `failEvery`-th message throws on its first `failTimes` attempts (0: none fail) */
  readonly failEvery: number;
  readonly failTimes: number;
  readonly amqpUrl?: string;
  readonly redis?: { host: string; port: number };
  /** the broker process whose CPU counts with this one's (redis-server, spindle) */
  readonly peerPid?: number;
}

export interface PassResult {
  readonly handled: number;
  readonly duplicates: number;
  readonly handlerCalls: number;
  /** publish start → last message handled, and the two phases, in seconds */
  readonly e2eS: number;
  readonly publishS: number;
  readonly handleS: number;
  /** publish call → handler done, per message (ms) */
  readonly p50: number;
  readonly p99: number;
  /** CPU seconds of the pass: this process (client, and an embedded broker) and the peer broker */
  readonly cpuS: number;
  readonly peerCpuS: number;
}

const PASS_TIMEOUT_MS = 15 * 60_000;
const TICKS_PER_S = 100;
const spec = JSON.parse(process.argv[2] as string) as SdkBenchSpec;

/** utime + stime of the peer broker, in clock ticks (0 without one). */
function peerTicks(): number {
  if (spec.peerPid === undefined) return 0;
  const fields = readFileSync(`/proc/${spec.peerPid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return Number(fields[11]) + Number(fields[12]);
}

/** {i, pad} whose JSON is `bytes` long for a 6-digit i: what every system carries as its job. */
function padFor(bytes: number): string {
  return "x".repeat(bytes - JSON.stringify({ i: 100_000, pad: "" }).length);
}

async function pass(target: BenchTarget, state: PassState, lo: number, hi: number): Promise<PassResult> {
  const n = hi - lo;
  state.reset(lo, n);
  const done = new Promise<void>((resolve, reject) => {
    state.onDone = resolve;
    setTimeout(
      () => reject(new Error(`${spec.system}: ${state.handled}/${n} handled after ${PASS_TIMEOUT_MS} ms`)),
      PASS_TIMEOUT_MS,
    ).unref();
  });
  const cpu0 = process.cpuUsage();
  const peer0 = peerTicks();
  const t0 = performance.now();
  await target.publishRange(lo, hi, (i) => {
    state.sentAt[i - lo] = performance.now();
  });
  const tPublished = performance.now();
  await done;
  const tLast = state.lastAt;
  const cpu = process.cpuUsage(cpu0);
  const peerCpuS = (peerTicks() - peer0) / TICKS_PER_S;
  const lat = new Float64Array(n);
  for (let k = 0; k < n; k++) lat[k] = (state.doneAt[k] as number) - (state.sentAt[k] as number);
  lat.sort();
  const at = (q: number) => lat[Math.min(n - 1, Math.floor(q * n))] as number;
  return {
    handled: state.handled,
    duplicates: state.duplicates,
    handlerCalls: state.calls,
    e2eS: (tLast - t0) / 1000,
    publishS: (tPublished - t0) / 1000,
    handleS: (tLast - state.firstAt) / 1000,
    p50: at(0.5),
    p99: at(0.99),
    cpuS: (cpu.user + cpu.system) / 1e6,
    peerCpuS,
  };
}

/** What the handlers of one pass record; `handle` is the job every system runs. */
class PassState {
  lo = 0;
  n = 0;
  sentAt = new Float64Array(0);
  doneAt = new Float64Array(0);
  handled = 0;
  duplicates = 0;
  calls = 0;
  firstAt = 0;
  lastAt = 0;
  onDone: () => void = () => {};

  reset(lo: number, n: number): void {
    Object.assign(this, { lo, n, handled: 0, duplicates: 0, calls: 0, firstAt: 0, lastAt: 0 });
    this.sentAt = new Float64Array(n);
    this.doneAt = new Float64Array(n);
  }

  readonly handle: OnMessage = (i, attempt) => {
    this.calls++;
    if (spec.failEvery > 0 && i % spec.failEvery === 0 && attempt <= spec.failTimes) {
      throw new Error(`job ${i} fails on attempt ${attempt} (planned)`);
    }
    const now = performance.now();
    const k = i - this.lo;
    if (k < 0 || k >= this.n || this.doneAt[k] !== 0) {
      this.duplicates++;
      return;
    }
    this.doneAt[k] = now;
    if (this.handled++ === 0) this.firstAt = now;
    this.lastAt = now;
    if (this.handled === this.n) this.onDone();
  };
}

const dataDir = spec.system === "sdk-embedded" ? mkdtempSync(join(tmpdir(), "spindle-bench-sdk-")) : "";
const state = new PassState();
const target = await targets[spec.system]({
  spec,
  dataDir,
  name: `bench-sdk-${process.pid}-${Date.now()}`,
  pad: padFor(spec.bodyBytes),
  onMessage: state.handle,
});
let result: PassResult;
try {
  if (spec.warmup > 0) await pass(target, state, 0, spec.warmup);
  result = await pass(target, state, spec.warmup, spec.warmup + spec.count);
} finally {
  await target.close();
  if (dataDir !== "") rmSync(dataDir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
