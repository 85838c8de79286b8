// GET /metrics on a real `spindle` process: queues with messages and a consumer (amqplib), a topic with a
// kafkajs consumer group that lags, scraped without credentials; the values must be what the clients did,
// the group's lag what kafkajs' admin computes, and the text must pass `promtool check metrics`. The Grafana
// dashboard shipped in ops/grafana may query only names this scrape exposes.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import amqplib from "amqplib";
import { type Consumer, Kafka, logLevel } from "kafkajs";
import { dashboardMetricNames } from "../support/grafana.ts";
import { exposedNames, parseScrape, promtoolCheck, type Sample, value } from "../support/prometheus.ts";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";

const TOPIC = "metrics-topic";
const GROUP = "metrics-group";
const ODD_QUEUE = 'metrics "odd" \\ name\nwith a newline';
const DASHBOARD = new URL("../../ops/grafana/spindle-dashboard.json", import.meta.url);

async function waitFor(what: string, probe: () => Promise<boolean> | boolean, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await probe())) {
    assert.ok(Date.now() < until, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("GET /metrics on a real broker", { timeout: 180_000 }, () => {
  let sp: SpindleProcess;
  let amqp: amqplib.ChannelModel;
  let consumer: Consumer;
  let text: string;
  let samples: Sample[];
  const kafka = () =>
    new Kafka({
      clientId: "metrics-test",
      brokers: [sp.kafka],
      logLevel: logLevel.NOTHING,
      retry: { retries: 10 },
    });

  const scrape = async (): Promise<string> => {
    const res = await fetch(`http://${sp.http}/metrics`); // no credentials: like RabbitMQ's Prometheus port
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    return res.text();
  };

  before(async () => {
    sp = await startSpindle();
    await queueTraffic();
    await streamTraffic();
    text = await scrape();
    samples = parseScrape(text);
  });

  after(async () => {
    await consumer?.disconnect();
    await amqp?.close();
    await sp?.stop();
  });

  async function queueTraffic(): Promise<void> {
    amqp = await amqplib.connect(sp.url);
    const pub = await amqp.createConfirmChannel();
    await pub.assertQueue("metrics-three");
    await pub.assertQueue("metrics-busy");
    await pub.assertQueue(ODD_QUEUE);
    for (let i = 0; i < 3; i++) pub.sendToQueue("metrics-three", Buffer.from(`m${i}`), { persistent: true });
    for (let i = 0; i < 2; i++) pub.sendToQueue("metrics-busy", Buffer.from(`b${i}`), { persistent: true });
    pub.publish("", "metrics-nowhere", Buffer.from("lost")); // unroutable, not mandatory: dropped
    await pub.waitForConfirms();
    const sub = await amqp.createChannel();
    await sub.prefetch(10);
    let delivered = 0;
    await sub.consume("metrics-busy", () => void delivered++, { noAck: false });
    await waitFor("two deliveries", () => delivered === 2);
    assert.equal(await pub.get("metrics-busy"), false, "everything is handed out: basic.get is empty");
  }

  /** 10 records on partition 0 and 5 on 1, consumed and committed by the group, then 4 more on 0 that the
   *  paused group does not read: lag 4 on partition 0, 0 on partition 1. */
  async function streamTraffic(): Promise<void> {
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 2 }] });
    const producer = kafka().producer();
    await producer.connect();
    const send = (partition: number, n: number) =>
      producer.send({
        topic: TOPIC,
        acks: -1,
        messages: Array.from({ length: n }, (_, i) => ({ partition, value: `p${partition}-${i}` })),
      });
    await send(0, 10);
    await send(1, 5);
    consumer = kafka().consumer({ groupId: GROUP, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({ eachMessage: async () => undefined });
    const committed = async () => {
      const [t] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
      return (t?.partitions ?? []).map((p) => Number(p.offset)).sort((a, b) => a - b);
    };
    await waitFor("the group's commits", async () => (await committed()).join() === "5,10");
    consumer.pause([{ topic: TOPIC }]);
    await send(0, 4);
    await producer.disconnect();
    await admin.disconnect();
  }

  it("passes promtool check metrics", () => {
    promtoolCheck(text);
  });

  it("shows each queue's depth and consumers under RabbitMQ's names and labels", () => {
    const q = (queue: string) => ({ vhost: "/", queue });
    assert.equal(value(samples, "rabbitmq_queue_messages", q("metrics-three")), 3);
    assert.equal(value(samples, "rabbitmq_queue_messages_ready", q("metrics-three")), 3);
    assert.equal(value(samples, "rabbitmq_queue_consumers", q("metrics-three")), 0);
    assert.equal(value(samples, "rabbitmq_queue_messages_ready", q("metrics-busy")), 0);
    assert.equal(value(samples, "rabbitmq_queue_messages_unacked", q("metrics-busy")), 2);
    assert.equal(value(samples, "rabbitmq_queue_messages", q("metrics-busy")), 2);
    assert.equal(value(samples, "rabbitmq_queue_consumers", q("metrics-busy")), 1);
    assert.equal(
      value(samples, "rabbitmq_queue_messages", q(ODD_QUEUE)),
      0,
      "the odd name round-trips escaped",
    );
    assert.equal(value(samples, "rabbitmq_queues"), 3);
    assert.equal(value(samples, "rabbitmq_global_consumers", { protocol: "amqp091" }), 1);
    assert.equal(value(samples, "rabbitmq_connections"), 1);
    assert.equal(value(samples, "rabbitmq_channels"), 2);
    assert.equal(value(samples, "rabbitmq_identity_info", { rabbitmq_endpoint: "per-object" }), 1);
  });

  it("counts publishes, confirms and deliveries in rabbitmq_global_*_total", () => {
    const g = (name: string) =>
      value(samples, `rabbitmq_global_messages_${name}_total`, { protocol: "amqp091" });
    assert.equal(g("received"), 6);
    assert.equal(g("received_confirm"), 6);
    assert.equal(g("routed"), 5);
    assert.equal(g("unroutable_dropped"), 1);
    assert.equal(g("confirmed"), 6);
    assert.equal(g("delivered_consume_manual_ack"), 2);
    assert.equal(g("delivered"), 2);
    assert.equal(g("get_empty"), 1);
    const dl = { queue_type: "rabbit_classic_queue", dead_letter_strategy: "at_most_once" };
    assert.equal(value(samples, "rabbitmq_global_messages_dead_lettered_rejected_total", dl), 0);
    assert.equal(value(samples, "rabbitmq_alarms_memory_used_watermark"), 0);
    assert.equal(value(samples, "rabbitmq_alarms_free_disk_space_watermark"), 0);
    assert.equal(
      value(samples, "rabbitmq_disk_space_available_limit_bytes"),
      50_000_000,
      "--disk-free-limit 50MB",
    );
    assert.ok(value(samples, "rabbitmq_disk_space_available_bytes") > 50_000_000);
    assert.ok(value(samples, "rabbitmq_resident_memory_limit_bytes") > 0);
    assert.ok(value(samples, "rabbitmq_process_resident_memory_bytes") > 0);
    const fds = value(samples, "rabbitmq_process_open_fds");
    assert.ok(fds > 0 && fds < value(samples, "rabbitmq_process_max_fds"));
  });

  it("shows topic offsets and the group's lag under kafka_exporter's names, as kafkajs' admin sees them", async () => {
    const tp = (partition: string) => ({ topic: TOPIC, partition });
    const gp = (partition: string) => ({ consumergroup: GROUP, topic: TOPIC, partition });
    assert.equal(value(samples, "kafka_topic_partitions", { topic: TOPIC }), 2);
    assert.equal(value(samples, "kafka_topic_partition_current_offset", tp("0")), 14);
    assert.equal(value(samples, "kafka_topic_partition_current_offset", tp("1")), 5);
    assert.equal(value(samples, "kafka_topic_partition_oldest_offset", tp("0")), 0);
    assert.equal(value(samples, "kafka_consumergroup_current_offset", gp("0")), 10);
    assert.equal(value(samples, "kafka_consumergroup_lag", gp("0")), 4);
    assert.equal(value(samples, "kafka_consumergroup_lag", gp("1")), 0);
    assert.equal(value(samples, "kafka_consumergroup_members", { consumergroup: GROUP }), 1);
    const admin = kafka().admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(TOPIC);
    const [committed] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    await admin.disconnect();
    for (const c of committed!.partitions) {
      const end = ends.find((e) => e.partition === c.partition)!;
      const lag = Number(end.high) - Number(c.offset);
      assert.equal(value(samples, "kafka_consumergroup_lag", gp(String(c.partition))), lag);
    }
  });

  it("shows Spindle's own: sync latency, log bytes, damage counters, process metrics", () => {
    assert.ok(
      value(samples, "spindle_log_fsync_duration_seconds_count") > 0,
      "confirmed publishes were synced",
    );
    assert.equal(
      value(samples, "spindle_log_fsync_duration_seconds_bucket", { le: "+Inf" }),
      value(samples, "spindle_log_fsync_duration_seconds_count"),
    );
    assert.ok(value(samples, "spindle_queue_log_bytes", { queue: "metrics-three" }) > 0);
    assert.ok(value(samples, "spindle_topic_partition_log_bytes", { topic: TOPIC, partition: "0" }) > 0);
    assert.equal(value(samples, "spindle_log_corrupt_batches_total"), 0);
    assert.ok(value(samples, "spindle_stream_produced_batches_total") >= 3);
    assert.ok(value(samples, "process_resident_memory_bytes") > 0);
  });

  it("the Grafana dashboard queries only names the scrape exposes", () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as unknown;
    const used = dashboardMetricNames(dashboard);
    assert.ok(used.size >= 10, `the dashboard should query the broker: ${[...used].join(", ")}`);
    const exposed = exposedNames(text);
    const missing = [...used].filter((n) => !exposed.has(n));
    assert.deepEqual(
      missing,
      [],
      `the dashboard queries names /metrics does not expose: ${missing.join(", ")}`,
    );
  });
});
