// npm run bench:patterns — the SDK's data patterns on PostgreSQL (127.0.0.1:5432, database test) and SQLite,
// each beside a peer measured in the same run: (1) the outbox relay draining committed rows to the broker
// against plain bus.publish of the same messages on the same bus (embedded://, and RabbitMQ on
// 127.0.0.1:5672 unless BENCH_RABBITMQ=0), delivery checked by draining a group; (2) event-store appends,
// one event each with the expected version checked, against one plain INSERT per transaction; (3) a
// projection catching up from the beginning (read-model upsert + checkpoint per batch) against reading the
// same events without projecting them.
// BENCH_PARTS=outbox,appends,catchup picks parts; BENCH_RUNS (default 3) repeats the outbox passes, alternating their order, and prints median (min–max);
// BENCH_COUNT (20,000) sizes an outbox pass, BENCH_APPENDS (4,000) an append pass, BENCH_EVENTS (20,000)
// a catch-up, BENCH_PIPELINE the relay's batches in flight (its default unless set). The machine is shared: load average is printed before and after, and the ratios of passes
// made side by side are what repeat. Tables and queues carry the pid and are dropped at the end.

import { execSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import {
  type Bus,
  connect,
  postgresEventStore,
  postgresOutbox,
  postgresProjectionStore,
  sqliteEventStore,
  sqliteProjectionStore,
} from "@spindle/sdk";
import Database from "better-sqlite3";
import pg from "pg";
import { deleteRabbitMqNames, RABBITMQ_URL } from "../test/support/rabbitmq.ts";
import {
  appendEvents,
  catchUp,
  fillEvents,
  plainInserts,
  type RatePass,
  readThrough,
  timed,
} from "./patterns-events.ts";
import { declareGroup, drain, makeBatch, type OutboxPass, plainPass, relayPass } from "./patterns-outbox.ts";
import { fmt, printTable } from "./table.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const COUNT = Number(process.env.BENCH_COUNT ?? 20_000);
const APPENDS = Number(process.env.BENCH_APPENDS ?? 4_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const AGGREGATES = 1_000;
/** BENCH_PARTS: a comma-separated subset of outbox, appends, catchup (default all). */
const PARTS = (process.env.BENCH_PARTS ?? "outbox,appends,catchup").split(",");
const RABBITMQ = process.env.BENCH_RABBITMQ !== "0";
const PG_URL = process.env.SPINDLE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const pid = process.pid;
const dir = mkdtempSync(join(os.tmpdir(), `spindle-bench-patterns-${pid}-`));
const pool = new pg.Pool({ connectionString: PG_URL, max: 12 });
const pgTables: string[] = [];
const notes: string[] = [];
const loadavg = () =>
  os
    .loadavg()
    .map((l) => fmt(l, 2))
    .join(" ");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
function cell(xs: number[], digits = 0): string {
  if (xs.length === 1) return fmt(xs[0] as number, digits);
  return `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`;
}
function version(pkg: string): string {
  const file = new URL(`../node_modules/${pkg}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

// ---- 1. outbox relay vs plain publish ----

type Variant = "plain 100" | "plain 1000" | "relay 100" | "relay 500" | "relay 1000";
const VARIANTS: Variant[] = ["plain 1000", "relay 100", "plain 100", "relay 500", "relay 1000"];

async function outboxOn(name: string, url: string): Promise<string[][]> {
  const bus: Bus = await connect(url);
  const topic = `bench-outbox-${name}-${pid}`;
  const table = `bench_outbox_${name}_${pid}`;
  pgTables.push(table);
  const outbox = await postgresOutbox(pool, { table });
  const expected = new Set<string>();
  const run = async (v: Variant): Promise<OutboxPass> => {
    const b = makeBatch(topic, COUNT, AGGREGATES);
    for (const id of b.ids) expected.add(id);
    const [kind, width] = v.split(" ") as ["plain" | "relay", string];
    return kind === "plain"
      ? plainPass(bus, b, Number(width))
      : relayPass(pool, outbox, bus, b, Number(width));
  };
  const results = new Map<Variant, OutboxPass[]>(VARIANTS.map((v) => [v, []]));
  try {
    await declareGroup(bus, topic, "check");
    console.error(`# ${name}: warm-up`);
    const warm = makeBatch(topic, Math.ceil(COUNT / 10), AGGREGATES);
    for (const id of warm.ids) expected.add(id);
    await plainPass(bus, warm, 1000);
    const warm2 = makeBatch(topic, Math.ceil(COUNT / 10), AGGREGATES);
    for (const id of warm2.ids) expected.add(id);
    await relayPass(pool, outbox, bus, warm2, 100);
    for (let r = 1; r <= RUNS; r++) {
      const order = r % 2 === 1 ? VARIANTS : [...VARIANTS].reverse();
      for (const v of order) {
        console.error(`# ${name}: run ${r}/${RUNS}: ${v}`);
        results.get(v)?.push(await run(v));
      }
    }
    const [received, duplicates] = await drain(bus, topic, "check", expected);
    notes.push(
      `${name}: ${received} of ${expected.size} messages delivered to a group drained after the passes, ${duplicates} twice`,
    );
  } finally {
    await bus.close();
  }
  const rate = (p: OutboxPass) => p.count / p.seconds;
  const plain = results.get("plain 1000") as OutboxPass[];
  const rows: string[][] = [];
  for (const v of VARIANTS) {
    const ps = results.get(v) as OutboxPass[];
    const [kind, width] = v.split(" ");
    rows.push([
      name,
      kind === "plain"
        ? `bus.publish, ${width} in flight`
        : `outbox relay, batchSize ${width}${width === "100" ? " (default)" : ""}`,
      cell(ps.map(rate)),
      `${cell(
        ps.map((p, i) => rate(p) / rate(plain[i] as OutboxPass)),
        2,
      )}×`,
      cell(ps.map((p) => (p.cpuS / p.count) * 1e6)),
      kind === "plain" ? "" : cell(ps.map((p) => (p.pgCpuS / p.count) * 1e6)),
    ]);
  }
  return rows;
}

// ---- 2 and 3. event store and projections ----

const rateRow = (db: string, p: RatePass, peer: RatePass | undefined): string[] => [
  db,
  p.label,
  fmt(p.count / p.seconds, 0),
  peer === undefined ? "1.00×" : `${fmt(p.count / p.seconds / (peer.count / peer.seconds), 2)}×`,
  fmt((p.cpuS / p.count) * 1e6, 0),
];

async function appendsPg(): Promise<string[][]> {
  const table = `bench_es_${pid}`;
  const plain = `bench_plain_${pid}`;
  pgTables.push(table, `${table}_streams`, `${table}_snapshots`, plain);
  const store = await postgresEventStore(pool, { table });
  await pool.query(
    `CREATE TABLE ${plain} (position bigserial PRIMARY KEY, stream_id text NOT NULL, version bigint NOT NULL, ` +
      "type text NOT NULL, data jsonb NOT NULL, UNIQUE (stream_id, version))",
  );
  const rows: string[][] = [];
  try {
    for (const workers of [1, 8]) {
      console.error(`# appends: postgres, ${workers} side by side`);
      const peer = await timed(`INSERT, a transaction each, ${workers} side by side`, APPENDS, () =>
        plainInserts(APPENDS, workers, async (i) => {
          await pool.query(`INSERT INTO ${plain} (stream_id, version, type, data) VALUES ($1, $2, $3, $4)`, [
            `p${workers}-${i % (workers * 10)}`,
            Math.floor(i / (workers * 10)) + 1,
            "Deposited",
            JSON.stringify({ amountCents: i, note: "deposit", at: i }),
          ]);
        }),
      );
      const sdk = await timed(`append, expected version, ${workers} side by side`, APPENDS, () =>
        appendEvents(store as never, `s${workers}`, APPENDS, workers),
      );
      rows.push(rateRow("PostgreSQL", peer, undefined), rateRow("PostgreSQL", sdk, peer));
    }
  } finally {
    await store.close();
  }
  return rows;
}

async function appendsSqlite(): Promise<string[][]> {
  const file = join(dir, "appends.db");
  const store = await sqliteEventStore(file, { table: "events" });
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.exec(
    "CREATE TABLE plain (position INTEGER PRIMARY KEY, stream_id TEXT NOT NULL, version INTEGER NOT NULL, " +
      "type TEXT NOT NULL, data TEXT NOT NULL, UNIQUE (stream_id, version))",
  );
  const insert = db.prepare("INSERT INTO plain (stream_id, version, type, data) VALUES (?, ?, ?, ?)");
  try {
    console.error("# appends: sqlite");
    const peer = await timed("INSERT, a transaction each", APPENDS, async () =>
      plainInserts(APPENDS, 1, async (i) => {
        insert.run(
          `p-${i % 10}`,
          Math.floor(i / 10) + 1,
          "Deposited",
          JSON.stringify({ amountCents: i, note: "deposit", at: i }),
        );
      }),
    );
    const sdk = await timed("append, expected version", APPENDS, () =>
      appendEvents(store as never, "s", APPENDS, 1),
    );
    return [rateRow("SQLite (WAL)", peer, undefined), rateRow("SQLite (WAL)", sdk, peer)];
  } finally {
    db.close();
    await store.close();
  }
}

async function catchUpPg(): Promise<string[][]> {
  const table = `bench_cu_${pid}`;
  const rm = `bench_rm_${pid}`;
  const checkpoints = `bench_proj_${pid}`;
  pgTables.push(table, `${table}_streams`, `${table}_snapshots`, rm, checkpoints);
  const store = await postgresEventStore(pool, { table });
  const projections = await postgresProjectionStore(pool, { table: checkpoints });
  await pool.query(
    `CREATE TABLE ${rm} (stream_id text PRIMARY KEY, balance bigint NOT NULL, events int NOT NULL)`,
  );
  try {
    console.error("# catch-up: postgres");
    await fillEvents(store as never, "a", EVENTS);
    const peer = await timed("readAll, 500 a page", EVENTS, () => readThrough(store as never, EVENTS, 500));
    const sdk = await timed("projection, 500 a batch (upsert per event)", EVENTS, () =>
      catchUp(
        store as never,
        {
          name: "balances",
          apply: async (e, tx) => {
            await tx.query(
              `INSERT INTO ${rm} VALUES ($1, $2, 1) ON CONFLICT (stream_id) DO UPDATE ` +
                `SET balance = ${rm}.balance + EXCLUDED.balance, events = ${rm}.events + 1`,
              [e.streamId, (e.data as { amountCents: number }).amountCents],
            );
          },
          reset: async (tx) => void (await tx.query(`DELETE FROM ${rm}`)),
        },
        projections,
        500,
      ),
    );
    const n = await pool.query<{ n: number }>(`SELECT sum(events)::int AS n FROM ${rm}`);
    if (n.rows[0]?.n !== EVENTS) throw new Error(`read model holds ${n.rows[0]?.n} events, not ${EVENTS}`);
    return [rateRow("PostgreSQL", peer, undefined), rateRow("PostgreSQL", sdk, peer)];
  } finally {
    await projections.close();
    await store.close();
  }
}

async function catchUpSqlite(): Promise<string[][]> {
  const file = join(dir, "catch-up.db");
  const store = await sqliteEventStore(file, { table: "events" });
  const projections = await sqliteProjectionStore(file);
  projections.db.exec(
    "CREATE TABLE rm (stream_id TEXT PRIMARY KEY, balance INTEGER NOT NULL, events INTEGER NOT NULL)",
  );
  const upsert = projections.db.prepare(
    "INSERT INTO rm VALUES (?, ?, 1) ON CONFLICT (stream_id) DO UPDATE " +
      "SET balance = rm.balance + excluded.balance, events = rm.events + 1",
  );
  try {
    console.error("# catch-up: sqlite");
    await fillEvents(store as never, "a", EVENTS);
    const peer = await timed("readAll, 500 a page", EVENTS, () => readThrough(store as never, EVENTS, 500));
    const sdk = await timed("projection, 500 a batch (upsert per event)", EVENTS, () =>
      catchUp(
        store as never,
        {
          name: "balances",
          apply: (e) => void upsert.run(e.streamId, (e.data as { amountCents: number }).amountCents),
          reset: (tx) => void tx.exec("DELETE FROM rm"),
        },
        projections,
        500,
      ),
    );
    const n = projections.db.prepare("SELECT sum(events) AS n FROM rm").get() as { n: number };
    if (n.n !== EVENTS) throw new Error(`read model holds ${n.n} events, not ${EVENTS}`);
    return [rateRow("SQLite (WAL)", peer, undefined), rateRow("SQLite (WAL)", sdk, peer)];
  } finally {
    await projections.close();
    await store.close();
  }
}

// ---- main ----

const pgVersion = (await pool.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]
  ?.v;
const syncCommit = (await pool.query<{ s: string }>("SELECT current_setting('synchronous_commit') AS s"))
  .rows[0]?.s;
console.log("\n### Machine and versions\n");
console.log(`- ${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}, ${fmt(os.totalmem() / 2 ** 30, 1)} GiB`);
console.log(`- load average before: ${loadavg()} (1, 5, 15 min)`);
console.log(
  `- node ${process.version}; spindle (${execSync("git rev-parse --short HEAD").toString().trim()}), ` +
    `pg ${version("pg")}, better-sqlite3 ${version("better-sqlite3")}, amqplib ${version("amqplib")}; ` +
    `PostgreSQL ${pgVersion} (synchronous_commit ${syncCommit})`,
);
console.log(
  `- outbox: ${COUNT.toLocaleString("en")} messages (~250 B JSON, ${AGGREGATES} keys) per pass, ${RUNS} runs; ` +
    `appends: ${APPENDS.toLocaleString("en")} per pass; catch-up: ${EVENTS.toLocaleString("en")} events`,
);

const OUTBOX_TITLE =
  "1. Outbox relay (PostgreSQL → broker) vs plain bus.publish of the same messages (target: relay ≥ 0.5× plain)";
const OUTBOX_HEADER = [
  "broker",
  "how",
  "msgs/s",
  "÷ plain, 1000 in flight",
  "CPU µs / msg (node)",
  "CPU µs / msg (postgres)",
];
// each table is printed as soon as its part is done, so a failure later keeps what was measured
try {
  if (PARTS.includes("appends")) {
    printTable(
      "2. Event-store appends, one event each, expected version checked, vs one INSERT per transaction",
      ["database", "how", "appends/s", "÷ INSERT", "CPU µs / append (node)"],
      [...(await appendsPg()), ...(await appendsSqlite())],
    );
  }
  if (PARTS.includes("catchup")) {
    printTable(
      "3. Projection catch-up from the beginning vs reading the same events",
      ["database", "how", "events/s", "÷ read only", "CPU µs / event (node)"],
      [...(await catchUpPg()), ...(await catchUpSqlite())],
    );
  }
  if (PARTS.includes("outbox")) {
    printTable(OUTBOX_TITLE, OUTBOX_HEADER, await outboxOn("embedded", `embedded://${join(dir, "broker")}`));
    if (RABBITMQ)
      printTable(`${OUTBOX_TITLE}, RabbitMQ`, OUTBOX_HEADER, await outboxOn("rabbitmq", RABBITMQ_URL));
  }
} finally {
  for (const t of pgTables) await pool.query(`DROP TABLE IF EXISTS ${t}`).catch(() => {});
  await pool.end();
  if (RABBITMQ && PARTS.includes("outbox")) await deleteRabbitMqNames(`-${pid}`).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
console.log(`\n${notes.map((n) => `- ${n}`).join("\n")}\n- load average after: ${loadavg()}`);
