// The nats adapter below the Bus against the NATS server on 127.0.0.1:4222 (JetStream), and a dropped
// connection: the server may not be restarted, so the client goes through a loopback proxy that the test
// cuts. Streams carry this run's pid and are deleted afterwards.

import assert from "node:assert/strict";
import { after, test } from "node:test";
import { deleteNatsStreams } from "../../../../../test/support/nats.ts";
import { type TcpProxy, tcpProxy } from "../../../../../test/support/tcp-proxy.ts";
import { testMessage, transportChecks } from "../../../../../test/support/transport-checks.ts";
import { systemClock } from "../../lib/clock.ts";
import { uniqueName, waitFor } from "../../testing/wait.ts";
import type { Transport } from "../transport.ts";
import { createTransport } from "./index.ts";

const open: Transport[] = [];
const proxies: TcpProxy[] = [];

after(async () => {
  for (const t of open) await t.close().catch(() => {});
  for (const p of proxies) await p.close();
  await deleteNatsStreams(`-${process.pid}-`);
});

async function nats(url = "nats://127.0.0.1:4222"): Promise<Transport> {
  const t = await createTransport({ url: new URL(url), clock: systemClock });
  open.push(t);
  return t;
}

transportChecks("nats → NATS", () => nats());

test("the connection drops: the client reconnects, pulls again and publishes again", async () => {
  const proxy = await tcpProxy(4222);
  proxies.push(proxy);
  const t = await nats(`nats://127.0.0.1:${proxy.port}`);
  const statuses: string[] = [];
  t.onStatus?.((s) => statuses.push(s));
  const topic = uniqueName("reconnect");
  const got: string[] = [];
  await t.subscribe(topic, { group: "g", prefetch: 5 }, (d) => {
    got.push(d.message.attributes.id);
    void d.ack();
  });
  await t.publish(topic, testMessage("before"));
  await waitFor("the first message", () => got.length === 1);
  proxy.cut();
  await waitFor("reconnecting", () => statuses.includes("reconnecting"), 15_000);
  await t.publish(topic, testMessage("after"));
  await waitFor("the message published after the reconnect", () => got.includes("after"), 20_000);
  assert.ok(statuses.includes("connected"));
});

test("a temporary subscription (a bus's reply topic) takes its topic's stream with it when closed", async () => {
  const t = await nats();
  const topic = uniqueName("private");
  const sub = await t.subscribe(topic, { group: topic, prefetch: 1, temporary: true }, (d) => void d.ack());
  const marker = `spindle_t_${topic}`;
  assert.equal(await countStreams(marker), 1, "the stream exists while subscribed");
  await sub.close();
  assert.equal(await countStreams(marker), 0, "the stream is gone");
});

async function countStreams(marker: string): Promise<number> {
  const { jetstreamManager } = await import("@nats-io/jetstream");
  const { connect } = await import("@nats-io/transport-node");
  const nc = await connect({ servers: "127.0.0.1:4222" });
  try {
    let n = 0;
    for await (const name of (await jetstreamManager(nc)).streams.names()) if (name.includes(marker)) n++;
    return n;
  } finally {
    await nc.close();
  }
}
