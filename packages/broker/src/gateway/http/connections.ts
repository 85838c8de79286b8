// /api/connections (DELETE closes one), /api/channels and /api/consumers: what the AMQP clients hold, read
// from the gateway's live Connection and Channel objects, named and shaped as RabbitMQ's API shows them.
// Invariant: read-only except DELETE, which closes the connection as RabbitMQ's management plugin does:
// 320 CONNECTION_FORCED with the X-Reason header's text (default "Closed via management plugin").

import { type Context, Hono } from "hono";
import { BrokerError } from "../../lib/index.ts";
import { VHOST } from "../../queues/index.ts";
import type { Channel, ChannelConsumer, Connection } from "../amqp/index.ts";
import type { HttpContext } from "./context.ts";
import { NODE } from "./format.ts";
import { listReply } from "./listing.ts";
import { vhostParam } from "./params.ts";

const CLOSE_REASON_DEFAULT = "Closed via management plugin";

function connectionJson(c: Connection): Record<string, unknown> {
  const props = c.clientProperties;
  return {
    name: c.name,
    node: NODE,
    type: "network",
    vhost: VHOST,
    user: c.user,
    user_who_performed_action: c.user,
    protocol: "AMQP 0-9-1",
    auth_mechanism: c.mechanism,
    ssl: false,
    host: c.local.host,
    port: c.local.port,
    peer_host: c.peer.host,
    peer_port: c.peer.port,
    connected_at: c.connectedAtMs,
    state: c.stateName,
    channels: c.channelList().length,
    channel_max: c.tuned.channelMax,
    frame_max: c.frameMax,
    timeout: c.tuned.heartbeatS,
    client_properties: props,
    user_provided_name: typeof props.connection_name === "string" ? props.connection_name : null,
  };
}

const channelName = (conn: Connection, ch: Channel) => `${conn.name} (${ch.number})`;

function channelJson(conn: Connection, ch: Channel): Record<string, unknown> {
  const b = ch.basic;
  const unconfirmed = b.unconfirmed;
  return {
    name: channelName(conn, ch),
    node: NODE,
    number: ch.number,
    connection_details: { name: conn.name, peer_host: conn.peer.host, peer_port: conn.peer.port },
    vhost: VHOST,
    user: conn.user,
    user_who_performed_action: conn.user,
    state: ch.isOpen ? "running" : "closing",
    consumer_count: b.consumerCount,
    messages_unacknowledged: b.unacked.size,
    messages_unconfirmed: unconfirmed ?? 0,
    messages_uncommitted: 0,
    acks_uncommitted: 0,
    prefetch_count: b.prefetch,
    global_prefetch_count: b.globalPrefetch,
    confirm: unconfirmed !== null,
    transactional: b.transactional,
  };
}

function consumerJson(conn: Connection, ch: Channel, k: ChannelConsumer): Record<string, unknown> {
  return {
    consumer_tag: k.tag,
    channel_details: {
      name: channelName(conn, ch),
      number: ch.number,
      connection_name: conn.name,
      peer_host: conn.peer.host,
      peer_port: conn.peer.port,
      node: NODE,
      user: conn.user,
    },
    queue: { name: k.queue.name, vhost: VHOST },
    ack_required: !k.noAck,
    prefetch_count: k.prefetch,
    exclusive: k.exclusive,
    active: true,
    activity_status: "up",
    arguments: {},
  };
}

type ChannelOf = { conn: Connection; ch: Channel };
type ConsumerOf = ChannelOf & { k: ChannelConsumer };

function channels(conns: readonly Connection[]): ChannelOf[] {
  return conns.flatMap((conn) => conn.channelList().map((ch) => ({ conn, ch })));
}

function consumers(conns: readonly Connection[]): ConsumerOf[] {
  return channels(conns).flatMap(({ conn, ch }) => ch.basic.consumerList().map((k) => ({ conn, ch, k })));
}

function named(ctx: HttpContext, c: Context): Connection {
  const name = c.req.param("name") ?? "";
  const conn = ctx.amqp.find(name);
  if (conn === undefined) throw new BrokerError("NOT_FOUND", `no connection '${name}'`);
  return conn;
}

export function connectionsRoutes(ctx: HttpContext): Hono {
  const app = new Hono();
  const connLister = { name: (x: Connection) => x.name, shape: connectionJson };
  const chLister = {
    name: (x: ChannelOf) => channelName(x.conn, x.ch),
    shape: (x: ChannelOf) => channelJson(x.conn, x.ch),
  };
  const consumerLister = {
    name: (x: ConsumerOf) => `${x.k.queue.name}\0${x.k.tag}`,
    shape: (x: ConsumerOf) => consumerJson(x.conn, x.ch, x.k),
  };
  app.get("/connections", (c) => listReply(c, ctx.amqp.list(), connLister));
  app.get("/connections/:name", (c) => c.json(connectionJson(named(ctx, c))));
  app.delete("/connections/:name", (c) => {
    named(ctx, c).closeByOperator(c.req.header("x-reason") ?? CLOSE_REASON_DEFAULT);
    return c.body(null, 204);
  });
  app.get("/connections/:name/channels", (c) => listReply(c, channels([named(ctx, c)]), chLister));
  app.get("/channels", (c) => listReply(c, channels(ctx.amqp.list()), chLister));
  app.get("/channels/:name", (c) => {
    const name = c.req.param("name");
    const found = channels(ctx.amqp.list()).find((x) => channelName(x.conn, x.ch) === name);
    if (found === undefined) throw new BrokerError("NOT_FOUND", `no channel '${name}'`);
    return c.json(channelJson(found.conn, found.ch));
  });
  app.get("/consumers", (c) => listReply(c, consumers(ctx.amqp.list()), consumerLister));
  app.get("/consumers/:vhost", (c) => {
    vhostParam(c);
    return listReply(c, consumers(ctx.amqp.list()), consumerLister);
  });
  return app;
}
