// Records golden AMQP bytes: a TCP proxy in front of a real RabbitMQ, driven by amqplib and by pika.
// Invariant: fixtures hold exactly the bytes each side wrote, in order, so codec tests replay real traffic.
// Usage: node --import tsx packages/protocol/scripts/capture-amqp.ts   (RabbitMQ on 127.0.0.1:5672, guest/guest)
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type Server } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import amqp from "amqplib";

const here = dirname(fileURLToPath(import.meta.url));
const fixturesDir = resolve(here, "../src/amqp/fixtures");
const upstream = { host: process.env.AMQP_HOST ?? "127.0.0.1", port: Number(process.env.AMQP_PORT ?? 5672) };
const PREFIX = "spindle-capture";

interface Chunk {
  dir: "c2s" | "s2c";
  b64: string;
}
interface Recording {
  chunks: Chunk[];
  closed: Promise<void>;
}

/** A proxy that records every connection through it; `recordings` grows as clients connect. */
async function startProxy(): Promise<{ port: number; recordings: Recording[]; server: Server }> {
  const recordings: Recording[] = [];
  const server = createServer((client) => {
    const chunks: Chunk[] = [];
    let done!: () => void;
    const closed = new Promise<void>((r) => {
      done = r;
    });
    recordings.push({ chunks, closed });
    const up = createConnection(upstream);
    client.on("data", (d) => {
      chunks.push({ dir: "c2s", b64: d.toString("base64") });
      up.write(d);
    });
    up.on("data", (d) => {
      chunks.push({ dir: "s2c", b64: d.toString("base64") });
      client.write(d);
    });
    let open = 2;
    const half = () => {
      if (--open === 0) done();
    };
    client.on("close", () => {
      up.end();
      half();
    });
    up.on("close", () => {
      client.end();
      half();
    });
    client.on("error", () => up.destroy());
    up.on("error", () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  if (addr === null || typeof addr === "string") throw new Error("no proxy port");
  return { port: addr.port, recordings, server };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every header type amqplib can send, via its `{'!': type}` notation where a plain value would not do. */
const richHeaders = {
  str: "héllo",
  int32: 123456,
  int8: { "!": "int8", value: -5 },
  uint8: { "!": "uint8", value: 200 },
  int16: { "!": "int16", value: -300 },
  uint16: { "!": "uint16", value: 60000 },
  uint32: { "!": "uint32", value: 4000000000 },
  int64: { "!": "int64", value: 2 ** 40 },
  float: { "!": "float", value: 1.5 },
  double: 3.25,
  decimal: { "!": "decimal", value: { places: 2, digits: 12345 } },
  timestamp: { "!": "timestamp", value: 1700000000 },
  bool: true,
  void: null,
  bytes: Buffer.from([0, 1, 2, 255]),
  array: [1, "two", false, [3], { four: 4 }],
  nested: { a: { b: { c: "deep" } }, list: ["x", "y"] },
};

async function amqplibScenario(port: number): Promise<void> {
  const url = `amqp://guest:guest@127.0.0.1:${port}/?frameMax=4096&heartbeat=1`;
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  const ex = `${PREFIX}.ex`;
  const ex2 = `${PREFIX}.ex2`;
  const dlx = `${PREFIX}.dlx`;
  const q = `${PREFIX}.q`;
  const dlq = `${PREFIX}.dlq`;
  await ch.assertExchange(dlx, "fanout", { durable: false, autoDelete: false });
  await ch.assertExchange(ex, "topic", {
    durable: false,
    arguments: { "x-spindle-note": "capture", "x-nested": { list: [1, "a", { b: true }] } },
  });
  await ch.assertExchange(ex2, "headers", { durable: false, internal: false });
  await ch.bindExchange(ex2, ex, "route.#", { "x-bind-arg": 7 });
  await ch.assertQueue(dlq, { durable: false });
  await ch.bindQueue(dlq, dlx, "");
  await ch.assertQueue(q, {
    durable: false,
    arguments: {
      "x-message-ttl": 60000,
      "x-dead-letter-exchange": dlx,
      "x-max-length": 1000,
      "x-max-priority": 5,
      "x-spindle-table": { nested: { deeper: [1, 2, 3] } },
      "x-spindle-array": ["a", 1, true, null],
    },
  });
  await ch.bindQueue(q, ex, "route.*", { "x-match": "all", kind: "test" });
  await ch.prefetch(10);
  ch.publish(ex, "route.one", Buffer.from("hello with every property"), {
    contentType: "text/plain",
    contentEncoding: "utf-8",
    headers: richHeaders,
    deliveryMode: 2,
    priority: 3,
    correlationId: "corr-1",
    replyTo: "reply.queue",
    expiration: "60000",
    messageId: "msg-1",
    timestamp: 1700000000,
    type: "greeting",
    userId: "guest",
    appId: "spindle-capture",
  });
  ch.publish(ex, "route.two", Buffer.alloc(10000, 0x61), { persistent: false }); // spans 3 body frames
  ch.publish(ex, "unroutable", Buffer.from("returned"), { mandatory: true });
  await sleep(200);
  const got = await ch.get(q, { noAck: false });
  if (got === false) throw new Error("basic.get found nothing");
  ch.ack(got);
  const seen: amqp.ConsumeMessage[] = [];
  const { consumerTag } = await ch.consume(q, (m) => {
    if (m !== null) seen.push(m);
  });
  ch.publish(ex, "route.three", Buffer.from("to nack"));
  ch.publish(ex, "route.four", Buffer.from("to reject"));
  await sleep(300);
  for (const m of seen) {
    const text = m.content.toString();
    if (text === "to nack") ch.nack(m, false, false);
    else if (text === "to reject") ch.reject(m, false);
    else ch.ack(m);
  }
  await ch.cancel(consumerTag);
  await ch.recover();
  await sleep(2200); // long enough for heartbeat frames in both directions
  await ch.get(dlq, { noAck: true });
  await ch.purgeQueue(dlq);
  await ch.get(dlq, { noAck: true }); // basic.get-empty
  const confirm = await conn.createConfirmChannel();
  confirm.publish(ex, "route.five", Buffer.from("confirmed"), { headers: { n: 1 } });
  await confirm.waitForConfirms();
  await confirm.close();
  await ch.unbindQueue(q, ex, "route.*", { "x-match": "all", kind: "test" });
  await ch.unbindExchange(ex2, ex, "route.#", { "x-bind-arg": 7 });
  await ch.deleteQueue(q, { ifUnused: false, ifEmpty: false });
  await ch.deleteQueue(dlq);
  await ch.deleteExchange(ex2);
  await ch.deleteExchange(dlx);
  await ch.deleteExchange(ex);
  const doomed = await conn.createChannel();
  doomed.on("error", () => {}); // the 404 below closes this channel
  await doomed.checkQueue(`${PREFIX}.missing`).catch(() => {});
  await ch.close();
  await conn.close();
}

const PIKA_SCRIPT = String.raw`
import sys, pika, datetime, decimal
port = int(sys.argv[1])
params = pika.ConnectionParameters(host="127.0.0.1", port=port, credentials=pika.PlainCredentials("guest", "guest"), heartbeat=0)
conn = pika.BlockingConnection(params)
ch = conn.channel()
ch.confirm_delivery()
q = "spindle-capture.pika"
ch.queue_declare(q, durable=False, arguments={"x-message-ttl": 30000, "x-queue-mode": "default", "x-spindle": {"list": [1, "a", True, None]}})
props = pika.BasicProperties(content_type="application/json", content_encoding="identity", headers={
  "int": 42, "big": 2**40, "neg": -7, "bool": False, "str": "text", "bytes": b"\x00\xff", "dec": decimal.Decimal("3.14"),
  "when": datetime.datetime(2023, 11, 14, 22, 13, 20), "dict": {"k": "v"}, "list": [1, "x"], "none": None},
  delivery_mode=1, priority=1, correlation_id="c", reply_to="r", expiration="1000", message_id="m",
  timestamp=1700000000, type="t", user_id="guest", app_id="pika", cluster_id="cluster")
ch.basic_publish(exchange="", routing_key=q, body=b'{"hello":"pika"}', properties=props)
method, header, body = ch.basic_get(q, auto_ack=False)
ch.basic_ack(method.delivery_tag)
ch.basic_get(q, auto_ack=True)
ch.queue_delete(q)
ch.close()
conn.close()
`;

/** Async on purpose: the proxy runs on this process's event loop, which a sync spawn would block. */
function pikaScenario(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      "/usr/bin/python3",
      ["-c", PIKA_SCRIPT, String(port)],
      { timeout: 30000 },
      (err, _out, stderr) => {
        if (err) reject(new Error(`pika scenario failed: ${stderr}`));
        else resolve();
      },
    );
  });
}

async function record(name: string, client: string, drive: (port: number) => Promise<void> | void) {
  const proxy = await startProxy();
  await drive(proxy.port);
  await Promise.all(proxy.recordings.map((r) => r.closed));
  proxy.server.close();
  if (proxy.recordings.length !== 1)
    throw new Error(`${name}: expected 1 connection, saw ${proxy.recordings.length}`);
  const rec = proxy.recordings[0] as Recording;
  const file = join(fixturesDir, `${name}.json`);
  const doc = { scenario: name, client, server: "RabbitMQ (see connection.start)", chunks: rec.chunks };
  writeFileSync(file, `${JSON.stringify(doc, null, 1)}\n`);
  console.log(`capture-amqp: ${file} (${rec.chunks.length} chunks)`);
}

mkdirSync(fixturesDir, { recursive: true });
await record("amqplib-session", "amqplib", amqplibScenario);
await record("pika-session", "pika 1.2 (BlockingConnection)", pikaScenario);
