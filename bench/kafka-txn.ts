// npm run bench:kafka-txn — Kafka transactions with kafkajs: 10-record transactions over 3 partitions
// (begin, send, commit), one producer after another and N producers at once, beside non-transactional
// idempotent produce of the same 10-record sends in the same run. Reports transactions (or sends) per second
// and the latency of commit (or send). Uses the built broker (`npm run build` first).
// Env: BENCH_TXNS (transactions per row, default 200), BENCH_PRODUCERS (N, default 4).

import { Kafka, logLevel, type Producer } from "kafkajs";
import { startSpindle } from "../test/support/spindle-process.ts";
import { fmt, printTable } from "./table.ts";

const TXNS = Number(process.env.BENCH_TXNS ?? 200);
const PRODUCERS = Number(process.env.BENCH_PRODUCERS ?? 4);
const RECORDS = 10;
const PARTITIONS = 3;

const messages = (i: number) =>
  Array.from({ length: RECORDS }, (_, r) => ({
    partition: r % PARTITIONS,
    key: `k${r}`,
    value: `txn ${i} record ${r} ${"x".repeat(100)}`,
  }));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

interface Row {
  mode: string;
  producers: number;
  perSec: number;
  /** latency of commit (transactions) or of the send (idempotent) */
  lat: number[];
}

/** Runs `count` units split over `producers` loops; `unit` returns the latency it measures (ms). */
async function measure(
  mode: string,
  producers: Producer[],
  count: number,
  unit: (p: Producer, i: number) => Promise<number>,
): Promise<Row> {
  const lat: number[] = [];
  const each = Math.ceil(count / producers.length);
  const t0 = performance.now();
  await Promise.all(
    producers.map(async (p, n) => {
      for (let i = 0; i < each; i++) lat.push(await unit(p, n * each + i));
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { mode, producers: producers.length, perSec: lat.length / seconds, lat };
}

async function transaction(p: Producer, topic: string, i: number): Promise<number> {
  const txn = await p.transaction();
  await txn.send({ topic, messages: messages(i) });
  const t0 = performance.now();
  await txn.commit();
  return performance.now() - t0;
}

async function send(p: Producer, topic: string, i: number): Promise<number> {
  const t0 = performance.now();
  await p.send({ topic, messages: messages(i), acks: -1 });
  return performance.now() - t0;
}

const spindle = await startSpindle();
try {
  const kafka = new Kafka({ clientId: "bench-txn", brokers: [spindle.kafka], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: "bench-txn", numPartitions: PARTITIONS }] });
  await admin.disconnect();
  const topic = "bench-txn";
  const connect = async (n: number, transactional: boolean) => {
    const ps: Producer[] = [];
    for (let i = 0; i < n; i++) {
      const p = kafka.producer(
        transactional
          ? { transactionalId: `bench-${i}`, idempotent: true, maxInFlightRequests: 1 }
          : { idempotent: true, maxInFlightRequests: 1 },
      );
      await p.connect();
      ps.push(p);
    }
    return ps;
  };
  const txProducers = await connect(PRODUCERS, true);
  const idProducers = await connect(PRODUCERS, false);
  const warm = txProducers[0] as Producer;
  for (let i = 0; i < 10; i++) await transaction(warm, topic, i);
  const rows: Row[] = [
    await measure("idempotent send", idProducers.slice(0, 1), TXNS, (p, i) => send(p, topic, i)),
    await measure("transaction", txProducers.slice(0, 1), TXNS, (p, i) => transaction(p, topic, i)),
    await measure("idempotent send", idProducers, TXNS, (p, i) => send(p, topic, i)),
    await measure("transaction", txProducers, TXNS, (p, i) => transaction(p, topic, i)),
  ];
  for (const p of [...txProducers, ...idProducers]) await p.disconnect();
  printTable(
    `kafkajs, ${RECORDS} records over ${PARTITIONS} partitions per send/transaction, ${TXNS} per row, default --fsync`,
    ["mode", "producers", "per s", "ms/txn (1 producer)", "commit or send p50 ms", "p99 ms"],
    rows.map((r) => [
      r.mode,
      r.producers,
      fmt(r.perSec),
      r.producers === 1 ? fmt(1000 / r.perSec) : "",
      fmt(percentile(r.lat, 0.5)),
      fmt(percentile(r.lat, 0.99)),
    ]),
  );
} finally {
  await spindle.stop();
}
