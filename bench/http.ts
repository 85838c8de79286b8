// npm run bench:http — the HTTP port of a broker holding 10,000 queues: GET /metrics (the Prometheus scrape)
// and GET /api/queues (the management API's full list, one page of it as the console asks, the columns
// `rabbitmqadmin list queues` asks for, and a page sorted by another field than the name), each
// requested BENCH_RUNS times in a row (default 50) after two unmeasured warm-ups; latency p50/p99 as the
// client sees it, the broker's CPU per request, and p99 beside the 1 s target. No peer here exposes these
// endpoints (RabbitMQ on this machine has neither its management nor its Prometheus plugin enabled), so the
// yardsticks are the target and a floor measured in the same run: a bare node:http server answering a fixed
// body of the scrape's size (what moving those bytes costs on this loaded machine, with no work to make them).
// BENCH_QUEUES changes the count; BENCH_CPU_PROF=DIR writes the broker's CPU profile.

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import amqplib from "amqplib";
import { GUEST_AUTH } from "../test/support/http-api.ts";
import { type SpindleProcess, startSpindle } from "../test/support/spindle-process.ts";
import { fmt, printTable } from "./table.ts";

const QUEUES = Number(process.env.BENCH_QUEUES ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const TARGET_MS = 1000;
/** one message in every WITH_MESSAGES-th queue, so depths and bytes are not all zero */
const WITH_MESSAGES = 10;
const TICKS_PER_S = 100;

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_S) * 1000;
}

const quantile = (sorted: readonly number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;

/** Declares `count` queues over one AMQP channel, 500 at a time, and puts one message in every tenth. */
async function declareQueues(sp: SpindleProcess, count: number): Promise<number> {
  const t0 = performance.now();
  const conn = await amqplib.connect(sp.url);
  const ch = await conn.createConfirmChannel();
  for (let from = 0; from < count; from += 500) {
    const batch: Promise<unknown>[] = [];
    for (let i = from; i < Math.min(count, from + 500); i++) {
      const name = `bench-q-${String(i).padStart(5, "0")}`;
      batch.push(ch.assertQueue(name, { durable: false }));
      if (i % WITH_MESSAGES === 0) ch.sendToQueue(name, Buffer.alloc(100, 0x61));
    }
    await Promise.all(batch);
  }
  await ch.waitForConfirms();
  await conn.close();
  return performance.now() - t0;
}

interface Measured {
  readonly what: string;
  readonly ms: number[];
  readonly bytes: number;
  readonly cpuMsPerRequest: number;
}

/** `server`: host:port, the pid whose CPU is counted, and the CPU it uses idle (ms per s: timers, samplers),
 *  taken off its CPU per request. */
async function measure(
  what: string,
  server: { address: string; pid: number; idleCpuMsPerS: number },
  path: string,
  auth = false,
): Promise<Measured> {
  const headers: Record<string, string> = auth ? { authorization: GUEST_AUTH } : {};
  const get = async () => {
    const res = await fetch(`http://${server.address}${path}`, { headers });
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.arrayBuffer()).byteLength;
  };
  await get();
  await get();
  const pid = server.pid;
  const cpu0 = cpuMs(pid);
  const start = performance.now();
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    bytes = await get();
    ms.push(performance.now() - t0);
  }
  const idle = (server.idleCpuMsPerS * (performance.now() - start)) / 1000;
  const cpuMsPerRequest = Math.max(0, cpuMs(pid) - cpu0 - idle) / RUNS;
  return { what, ms: ms.sort((a, b) => a - b), bytes, cpuMsPerRequest };
}

/** CPU a process uses while nobody asks it anything, in ms per second, over `ms`. */
async function idleCpu(pid: number, ms = 3000): Promise<number> {
  const cpu0 = cpuMs(pid);
  await new Promise((r) => setTimeout(r, ms));
  return ((cpuMs(pid) - cpu0) * 1000) / ms;
}

const FLOOR_SOURCE = `import { createServer } from "node:http";
const body = Buffer.alloc(Number(process.argv[1]), 0x61);
const server = createServer((req, res) => res.writeHead(200, { "content-type": "text/plain" }).end(body));
server.listen(0, "127.0.0.1", () => process.stdout.write(\`port=\${server.address().port}\\n\`));
`;

/** A bare node:http server answering `bytes` of fixed text; measured like the broker, then stopped. */
async function measureFloor(bytes: number): Promise<Measured> {
  const child = spawn(process.execPath, ["--input-type=module", "-e", FLOOR_SOURCE, String(bytes)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const port = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.setEncoding("utf8").on("data", (s: string) => {
        out += s;
        const m = /port=(\d+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.once("exit", (code) => reject(new Error(`the floor server exited with ${code}`)));
    });
    return await measure(
      "floor: node:http, same bytes",
      { address: `127.0.0.1:${port}`, pid: child.pid ?? 0, idleCpuMsPerS: 0 },
      "/",
    );
  } finally {
    child.kill("SIGTERM");
  }
}

async function main(): Promise<void> {
  const profDir = process.env.BENCH_CPU_PROF;
  const nodeArgs = profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : [];
  const sp = await startSpindle([], undefined, { nodeArgs });
  try {
    const declareMs = await declareQueues(sp, QUEUES);
    console.log(`${QUEUES} queues declared over AMQP in ${fmt(declareMs / 1000)} s`);
    const pid = sp.child.pid ?? 0;
    // the HTTP app loads (and the management API's rate sampler starts) on the first request
    await fetch(`http://${sp.http}/healthz`);
    const broker = { address: sp.http, pid, idleCpuMsPerS: await idleCpu(pid) };
    console.log(`broker idle CPU with ${QUEUES} queues: ${fmt(broker.idleCpuMsPerS)} ms/s`);
    const scrape = await measure("GET /metrics", broker, "/metrics");
    const results = [
      scrape,
      await measureFloor(scrape.bytes),
      await measure("GET /api/queues", broker, "/api/queues", true),
      await measure("GET /api/queues?page=1&page_size=100", broker, "/api/queues?page=1&page_size=100", true),
      // what `rabbitmqadmin list queues` asks for, and a page in another order than by name
      await measure(
        "GET /api/queues?columns=name,messages",
        broker,
        "/api/queues?columns=name,messages",
        true,
      ),
      await measure("GET /api/queues?sort=messages&page=1", broker, "/api/queues?sort=messages&page=1", true),
    ];
    const rows = results.map((r) => {
      const p50 = quantile(r.ms, 0.5);
      const p99 = quantile(r.ms, 0.99);
      return [
        r.what,
        RUNS,
        fmt(p50),
        fmt(p99),
        fmt(r.ms[r.ms.length - 1]!),
        fmt(r.cpuMsPerRequest),
        fmt(r.bytes / 1024, 0),
        fmt(p99 / TARGET_MS, 3),
      ];
    });
    printTable(
      `HTTP with ${QUEUES} queues (${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)})`,
      ["request", "n", "p50 ms", "p99 ms", "max ms", "server CPU ms/req", "body KiB", "p99 / 1 s target"],
      rows,
    );
  } finally {
    await sp.stop();
  }
  if (profDir) console.log(`\nthe broker's CPU profile is in ${profDir}`);
}

await main();
