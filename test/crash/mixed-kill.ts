// A kill -9 loop over AMQP and Kafka at once: one real `spindle` process serves an amqplib publisher
// (confirms) and consumer (manual acks), a kafkajs idempotent producer (acks=-1) and a consumer group that
// commits offsets; the process is SIGKILLed at random moments and restarted on the same data dir.
// Invariant checked: every confirmed message is delivered (at least once), every acknowledged record is at
// its acknowledged offset exactly once, and an acknowledged offset commit never goes backwards.

import amqplib from "amqplib";
import { type Consumer, Kafka, logLevel, type Producer } from "kafkajs";
import { type SpindleProcess, startSpindle, tempDataDir } from "../support/spindle-process.ts";

const QUEUE = "mixed-q";
const TOPIC = "mixed";
const GROUP = "mixed-g";
const PARTITIONS = 2;
const BATCH = 100;
/** pause between a producer's sends: the kill cycles matter, not the volume (the ledger holds every record) */
const PRODUCE_PAUSE_MS = 20;

/** a record's place as one number: offset * PARTITIONS + partition */
const place = (partition: number, offset: number) => offset * PARTITIONS + partition;
const showPlace = (at: number) => `${at % PARTITIONS}/${Math.floor(at / PARTITIONS)}`;

export interface MixedKillReport {
  readonly cycles: number;
  readonly amqp: {
    readonly published: number;
    readonly confirmed: number;
    /** confirmed and never delivered (must be 0) */
    readonly lost: number;
    /** deliveries of a message the consumer had acked before a kill (an ack is not confirmed: allowed) */
    readonly redeliveredAfterAck: number;
    /** messages that came back after a final drain, a settle and another kill (must be 0) */
    readonly returnedAfterFlushedAck: number;
  };
  readonly kafka: {
    readonly acked: number;
    /** acknowledged records not at their offset, or there more than once (must be 0) */
    readonly lost: number;
    readonly commitsAcked: number;
    /** partitions whose committed offset after a restart was below an acknowledged commit (must be 0) */
    readonly commitRegressions: number;
  };
  /** launch → ready line of each start over the data dir */
  readonly restartMs: readonly number[];
  readonly failures: readonly string[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** A deadline for a race: unref'd, so one that is not reached does not hold the process open. */
const deadline = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
/** Waits for a client call that may never settle once its broker is dead. */
const quietly = (p: Promise<unknown> | undefined, ms = 1000) =>
  Promise.race([Promise.resolve(p).catch(() => undefined), deadline(ms)]);

/** What the clients saw, over all cycles. */
class Ledger {
  nextAmqp = 0;
  nextKafka = 0;
  published = 0;
  readonly confirmed = new Set<number>();
  readonly delivered = new Set<number>();
  readonly acked = new Set<number>();
  redeliveredAfterAck = 0;
  /** record number (its value is `k<n>`) → place it was acknowledged at */
  readonly records = new Map<number, number>();
  /** per partition, the highest offset commit the broker acknowledged (-1: none, as OffsetFetch says) */
  readonly committed = new Array<number>(PARTITIONS).fill(-1);
  commitsAcked = 0;
  commitRegressions = 0;
  readonly failures: string[] = [];
}

function kafkaClient(s: SpindleProcess): Kafka {
  return new Kafka({
    clientId: "mixed-kill",
    brokers: [s.kafka],
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 50, maxRetryTime: 300 },
    connectionTimeout: 1000,
  });
}

/** The four clients of one cycle; stop() ends their loops and closes them without waiting on a dead broker. */
async function startClients(s: SpindleProcess, ledger: Ledger) {
  let running = true;
  const conn = await amqplib.connect(s.url);
  conn.on("error", () => undefined);
  const pubCh = await conn.createConfirmChannel();
  pubCh.on("error", () => undefined);
  const subCh = await conn.createChannel();
  subCh.on("error", () => undefined);
  await subCh.prefetch(200);
  await subCh.consume(QUEUE, (m) => {
    if (m === null) return;
    const id = Number(m.content.toString());
    if (ledger.acked.has(id)) ledger.redeliveredAfterAck++;
    ledger.delivered.add(id);
    subCh.ack(m);
    ledger.acked.add(id);
  });
  const publishing = (async () => {
    while (running) {
      for (let i = 0; i < BATCH; i++) {
        const id = ledger.nextAmqp++;
        ledger.published++;
        pubCh.sendToQueue(QUEUE, Buffer.from(String(id)), { persistent: true }, (err: unknown) => {
          if (err === null || err === undefined) ledger.confirmed.add(id);
        });
      }
      await pubCh.waitForConfirms();
    }
  })().catch(() => undefined);

  const kafka = kafkaClient(s);
  // a producer whose send failed is not used again: its next batch would reuse the failed batch's
  // sequence numbers for different records, which an idempotent broker rightly takes as a duplicate
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const producing = (async () => {
    for (let n = 0; running; n++) {
      const partition = n % PARTITIONS;
      const first = ledger.nextKafka;
      ledger.nextKafka += BATCH;
      const [md] = await producer.send({
        topic: TOPIC,
        acks: -1,
        messages: Array.from({ length: BATCH }, (_, k) => ({ value: `k${first + k}`, partition })),
      });
      const base = Number(md?.baseOffset);
      for (let k = 0; k < BATCH; k++) ledger.records.set(first + k, place(partition, base + k));
      await sleep(PRODUCE_PAUSE_MS);
    }
  })().catch(() => undefined);

  const consumer: Consumer = kafka.consumer({
    groupId: GROUP,
    sessionTimeout: 6000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 100,
    // once its broker is killed it stops for good: a consumer that restarts itself keeps retrying, and its
    // timers, long after this cycle
    retry: { retries: 1, restartOnFailure: async () => false },
  });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joined = true;
  });
  // acknowledged commits are taken from the event kafkajs emits after the OffsetCommit response: its
  // commitOffsets() also resolves, without committing, when the consumer has stopped running
  consumer.on(consumer.events.COMMIT_OFFSETS, ({ payload }) => {
    for (const t of payload.topics)
      for (const p of t.partitions) {
        ledger.commitsAcked++;
        ledger.committed[p.partition] = Math.max(ledger.committed[p.partition] ?? -1, Number(p.offset));
      }
  });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (batch.messages.length === 0) return;
      const next = Number(batch.lastOffset()) + 1;
      await consumer.commitOffsets([{ topic: TOPIC, partition: batch.partition, offset: String(next) }]);
    },
  });
  return {
    joined: () => joined,
    async stop() {
      running = false;
      await quietly(Promise.all([publishing, producing]));
      await quietly(consumer.disconnect());
      await quietly(producer.disconnect());
      await quietly(conn.close());
    },
  };
}

/** After a start: every acknowledged offset commit is still there (or was passed). */
async function checkCommits(s: SpindleProcess, ledger: Ledger): Promise<void> {
  const admin = kafkaClient(s).admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    for (const p of t?.partitions ?? []) {
      const want = ledger.committed[p.partition] ?? -1;
      if (Number(p.offset) < want) {
        ledger.commitRegressions++;
        ledger.failures.push(
          `partition ${p.partition}: committed ${p.offset} after a restart, acknowledged ${want}`,
        );
      }
    }
  } finally {
    await quietly(admin.disconnect());
  }
}

async function setUp(s: SpindleProcess): Promise<void> {
  const conn = await amqplib.connect(s.url);
  const ch = await conn.createChannel();
  await ch.assertQueue(QUEUE, { durable: true });
  await conn.close();
  const admin = kafkaClient(s).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }], waitForLeaders: true });
  await admin.disconnect();
}

/** Takes every ready message with acks; returns once the queue stayed empty for a moment. */
async function drainQueue(s: SpindleProcess, ledger: Ledger): Promise<void> {
  const conn = await amqplib.connect(s.url);
  const ch = await conn.createChannel();
  for (let empty = 0; empty < 3; ) {
    const m = await ch.get(QUEUE, { noAck: false });
    if (m === false) {
      empty++;
      await sleep(50);
      continue;
    }
    empty = 0;
    const id = Number(m.content.toString());
    if (ledger.acked.has(id)) ledger.redeliveredAfterAck++;
    ledger.delivered.add(id);
    ch.ack(m);
    ledger.acked.add(id);
  }
  await conn.close();
}

/** Reads both partitions through: record number → its place, and the numbers stored more than once. */
async function readPartitions(
  s: SpindleProcess,
  ledger: Ledger,
): Promise<{ found: Map<number, number>; twice: Set<number> }> {
  const kafka = kafkaClient(s);
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(TOPIC);
  await admin.disconnect();
  const left = new Map(ends.map((e) => [e.partition, Number(e.high)]));
  const found = new Map<number, number>();
  const twice = new Set<number>();
  const consumer = kafka.consumer({ groupId: `verify-${Date.now()}`, maxBytes: 64 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    const check = () => {
      if ([...left.values()].every((n) => n <= 0)) resolve();
    };
    check();
    consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const n = Number(String(m.value).slice(1));
          if (found.has(n)) twice.add(n);
          found.set(n, place(batch.partition, Number(m.offset)));
        }
        const high = Number(ends.find((e) => e.partition === batch.partition)?.high ?? 0);
        left.set(batch.partition, high - (Number(batch.lastOffset()) + 1));
        check();
      },
    });
  });
  const finished = await Promise.race([done.then(() => true), deadline(120_000).then(() => false)]);
  if (!finished)
    ledger.failures.push(`reading the partitions through timed out: ${JSON.stringify([...left])}`);
  await quietly(consumer.disconnect(), 5000);
  return { found, twice };
}

export async function runMixedKill(
  cycles: number,
  log: (line: string) => void = () => undefined,
  rng: () => number = Math.random,
): Promise<MixedKillReport> {
  const dataDir = tempDataDir();
  const ledger = new Ledger();
  const restartMs: number[] = [];
  const start = async () => {
    const t = performance.now();
    const s = await startSpindle([], dataDir);
    restartMs.push(performance.now() - t);
    return s;
  };
  for (let cycle = 0; cycle < cycles; cycle++) {
    const s = await start();
    if (cycle === 0) await setUp(s);
    else await checkCommits(s, ledger);
    const clients = await startClients(s, ledger);
    // most kills land once the group has joined and consumes; some while clients are still starting
    if (rng() < 0.7) {
      for (let t = 0; t < 4000 && !clients.joined(); t += 50) await sleep(50);
      await sleep(100 + rng() * 900);
    } else await sleep(rng() * 800);
    process.kill(s.child.pid as number, "SIGKILL");
    await s.exited;
    await clients.stop();
    log(
      `cycle ${cycle + 1}/${cycles}: confirmed ${ledger.confirmed.size}, kafka acked ${ledger.records.size}, commits ${ledger.commitsAcked}, start ${restartMs.at(-1)?.toFixed(0)} ms`,
    );
  }

  // the check run: everything confirmed is delivered, every acknowledged record is where it was acked
  let s = await start();
  await checkCommits(s, ledger);
  await drainQueue(s, ledger);
  const { found, twice } = await readPartitions(s, ledger);
  // settled acks are written within a few ms: after this wait a kill may bring none of them back
  await sleep(300);
  process.kill(s.child.pid as number, "SIGKILL");
  await s.exited;
  s = await start();
  const conn = await amqplib.connect(s.url);
  const ch = await conn.createChannel();
  const returned = (await ch.checkQueue(QUEUE)).messageCount;
  await conn.close();
  await s.stop();

  let amqpLost = 0;
  for (const id of ledger.confirmed) if (!ledger.delivered.has(id)) amqpLost++;
  if (amqpLost > 0) ledger.failures.push(`${amqpLost} confirmed AMQP messages never delivered`);
  if (returned > 0) ledger.failures.push(`${returned} AMQP messages returned after a flushed ack`);
  let kafkaLost = 0;
  for (const [n, at] of ledger.records) {
    const got = found.get(n);
    if (got !== at || twice.has(n)) {
      kafkaLost++;
      const where = got === undefined ? "nowhere" : showPlace(got);
      if (kafkaLost <= 5)
        ledger.failures.push(
          `record k${n} acked at ${showPlace(at)}, found at ${where}${twice.has(n) ? ", twice" : ""}`,
        );
    }
  }
  if (kafkaLost > 0)
    ledger.failures.push(`${kafkaLost} acknowledged Kafka records lost, moved or duplicated`);
  for (const n of twice)
    if (!ledger.records.has(n)) ledger.failures.push(`unacknowledged record k${n} stored twice`);
  return {
    cycles,
    amqp: {
      published: ledger.published,
      confirmed: ledger.confirmed.size,
      lost: amqpLost,
      redeliveredAfterAck: ledger.redeliveredAfterAck,
      returnedAfterFlushedAck: returned,
    },
    kafka: {
      acked: ledger.records.size,
      lost: kafkaLost,
      commitsAcked: ledger.commitsAcked,
      commitRegressions: ledger.commitRegressions,
    },
    restartMs,
    failures: ledger.failures,
  };
}

/** The report as a table, for the soak run and the test's log. */
export function formatReport(r: MixedKillReport): string {
  const sorted = [...r.restartMs].sort((a, b) => a - b);
  const q = (f: number) =>
    (sorted[Math.min(sorted.length - 1, Math.floor(f * sorted.length))] ?? 0).toFixed(0);
  const rows: [string, string][] = [
    ["kill -9 cycles", String(r.cycles)],
    ["AMQP messages published", String(r.amqp.published)],
    ["AMQP messages confirmed", String(r.amqp.confirmed)],
    ["AMQP confirmed and lost", String(r.amqp.lost)],
    ["AMQP redelivered after an unflushed ack", String(r.amqp.redeliveredAfterAck)],
    ["AMQP returned after a flushed ack", String(r.amqp.returnedAfterFlushedAck)],
    ["Kafka records acknowledged", String(r.kafka.acked)],
    ["Kafka acknowledged and lost/moved/duplicated", String(r.kafka.lost)],
    ["Kafka offset commits acknowledged", String(r.kafka.commitsAcked)],
    ["Kafka commits gone backwards", String(r.kafka.commitRegressions)],
    ["starts (launch → ready) median / p90 / max ms", `${q(0.5)} / ${q(0.9)} / ${q(1)}`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n");
}
