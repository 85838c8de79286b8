// One side of an AMQP benchmark (producer or consumer) in its own process, driven by bench/amqp.ts.
// Invariant: prints exactly one JSON result line on stdout, then exits.

import { performance } from "node:perf_hooks";
import amqplib from "amqplib";

export interface WorkerSpec {
  role: "producer" | "consumer";
  url: string;
  queues: string[];
  exchange: string;
  count: number;
  bodyBytes: number;
  persistent: boolean;
  confirmWindow: number;
  prefetch: number;
  noAck: boolean;
  /** producer: messages per second (0 = as fast as possible) */
  rate: number;
}

const spec = JSON.parse(process.argv[2] as string) as WorkerSpec;
const nowMs = () => performance.timeOrigin + performance.now();

async function produce(): Promise<unknown> {
  const conn = await amqplib.connect(spec.url, { noDelay: true });
  const ch = spec.confirmWindow > 0 ? await conn.createConfirmChannel() : await conn.createChannel();
  const body = Buffer.alloc(spec.bodyBytes, 97);
  const rk = spec.exchange === "" ? (spec.queues[0] as string) : "";
  let outstanding = 0;
  let wake: (() => void) | null = null;
  const start = nowMs();
  for (let i = 0; i < spec.count; i++) {
    if (spec.rate > 0) {
      const due = start + (i * 1000) / spec.rate;
      const wait = due - nowMs();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    }
    body.writeDoubleLE(nowMs(), 0);
    const opts = { persistent: spec.persistent };
    if (spec.confirmWindow > 0) {
      while (outstanding >= spec.confirmWindow) await new Promise<void>((r) => (wake = r));
      outstanding++;
      (ch as amqplib.ConfirmChannel).publish(spec.exchange, rk, Buffer.from(body), opts, () => {
        outstanding--;
        const w = wake;
        wake = null;
        w?.();
      });
    } else if (!ch.publish(spec.exchange, rk, Buffer.from(body), opts)) {
      await new Promise((r) => ch.once("drain", r));
    }
  }
  if (spec.confirmWindow > 0) await (ch as amqplib.ConfirmChannel).waitForConfirms();
  const seconds = (nowMs() - start) / 1000;
  await ch.close(); // amqplib writes connection.close ahead of buffered channel frames
  await conn.close();
  return { sent: spec.count, seconds };
}

async function consume(): Promise<unknown> {
  const conn = await amqplib.connect(spec.url, { noDelay: true });
  const latencies: number[] = [];
  let received = 0;
  let first = 0;
  const total = spec.count * spec.queues.length;
  await new Promise<void>((resolve) => {
    const onMessage = (ch: amqplib.Channel) => (m: amqplib.ConsumeMessage | null) => {
      if (m === null) return;
      if (received === 0) first = nowMs();
      received++;
      if (process.env.BENCH_DEBUG && received % 1000 === 1) console.error("received", received, total);
      latencies.push(nowMs() - m.content.readDoubleLE(0));
      if (!spec.noAck) ch.ack(m);
      if (received >= total) resolve();
    };
    (async () => {
      for (const q of spec.queues) {
        const ch = await conn.createChannel();
        if (spec.prefetch > 0) await ch.prefetch(spec.prefetch);
        await ch.consume(q, onMessage(ch), { noAck: spec.noAck });
      }
      console.error("consumer ready");
    })();
  });
  const seconds = (nowMs() - first) / 1000;
  await conn.close();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return { received, seconds, p50: pct(0.5), p99: pct(0.99), p999: pct(0.999), lastReceived: nowMs() };
}

const result = spec.role === "producer" ? await produce() : await consume();
console.log(JSON.stringify(result));
process.exit(0);
