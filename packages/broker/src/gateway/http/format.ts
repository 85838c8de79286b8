// The management API's JSON for queues, exchanges and bindings, with RabbitMQ's field names.
// Invariant: every object built here has the fields rabbitmqadmin and the console read (names, counts,
// `message_stats` with `*_details: {rate}`), whatever state the entity is in.

import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { type Binding, canonical, type Exchange, type Queue, VHOST } from "../../queues/index.ts";
import { QUEUE_RATE_INDEX, type RateSampler } from "./rates.ts";

/** This broker as RabbitMQ names a node. */
export const NODE = `spindle@${hostname()}`;

const ZERO_RATE = Object.freeze({ rate: 0 });

/** `{rate}`; most rates are 0, and those share one object (JSON does not mind). */
export const details = (rate: number) => (rate === 0 ? ZERO_RATE : { rate });

/** Which top-level fields to build (RabbitMQ's `columns`); undefined: all of them. */
export type Want = ((key: string) => boolean) | undefined;

const R = QUEUE_RATE_INDEX;

/** A queue's JSON; `want` leaves out the nested `*_details` and `message_stats` nobody asked for (a list of
 *  10,000 queues with `columns=name,messages` builds 10,000 small objects, not 10,000 large ones). */
export function queueJson(q: Queue, rates: RateSampler, want?: Want): Record<string, unknown> {
  const ready = q.messageCount;
  const unacked = q.unackedCount;
  const bytes = q.bodyBytes;
  const rr = rates.queueRates(q);
  const o: Record<string, unknown> = {
    name: q.name,
    vhost: VHOST,
    durable: q.opts.durable,
    auto_delete: q.opts.autoDelete,
    exclusive: q.opts.exclusiveOwner !== null,
    arguments: q.opts.args,
    node: NODE,
    type: typeof q.opts.args["x-queue-type"] === "string" ? q.opts.args["x-queue-type"] : "classic",
    state: "running",
    policy: null,
    consumers: q.consumerCount,
    exclusive_consumer_tag: null,
    messages: ready + unacked,
    messages_ready: ready,
    messages_unacknowledged: unacked,
    message_bytes: bytes.ready + bytes.unacked,
    message_bytes_ready: bytes.ready,
    message_bytes_unacknowledged: bytes.unacked,
  };
  const all = want === undefined;
  if (all || want("messages_details")) o.messages_details = details(rr[R.messages] as number);
  if (all || want("messages_ready_details"))
    o.messages_ready_details = details(rr[R.messages_ready] as number);
  if (all || want("messages_unacknowledged_details")) {
    o.messages_unacknowledged_details = details(rr[R.messages_unacknowledged] as number);
  }
  if (all || want("message_stats")) o.message_stats = queueStats(q, rr);
  return o;
}

function queueStats(q: Queue, rr: Readonly<Float64Array>): Record<string, unknown> {
  const s = q.stats;
  const d = (i: number) => details(rr[i] as number);
  return {
    publish: s.publish,
    publish_details: d(R.publish),
    deliver_get: s.deliver + s.deliverNoAck + s.get + s.getNoAck,
    deliver_get_details: d(R.deliver_get),
    deliver: s.deliver,
    deliver_details: d(R.deliver),
    deliver_no_ack: s.deliverNoAck,
    deliver_no_ack_details: d(R.deliver_no_ack),
    get: s.get,
    get_details: d(R.get),
    get_no_ack: s.getNoAck,
    get_no_ack_details: d(R.get_no_ack),
    redeliver: s.redeliver,
    redeliver_details: d(R.redeliver),
    ack: s.ack,
    ack_details: d(R.ack),
  };
}

export function exchangeJson(e: Exchange): Record<string, unknown> {
  const d = e.def;
  return {
    name: d.name,
    vhost: VHOST,
    type: d.type,
    durable: d.durable,
    auto_delete: d.autoDelete,
    internal: d.internal,
    arguments: d.args,
    user_who_performed_action: d.name === "" || d.name.startsWith("amq.") ? "rmq-internal" : "guest",
  };
}

/** `+` for space and `~` escaped, as RabbitMQ quotes the parts of a properties key. */
function quoteKeyPart(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, "+").replace(/~/g, "%7E");
}

/** The hash that tells bindings with the same routing key and other arguments apart in a properties key. */
export function argsHash(args: Readonly<Record<string, unknown>>): string {
  return createHash("md5").update(canonical(args)).digest("base64url");
}

/** RabbitMQ's properties_key: "~" for no key and no arguments, else the quoted key, then "~hash" with arguments. */
export function propertiesKey(routingKey: string, args: Readonly<Record<string, unknown>>): string {
  const hasArgs = Object.keys(args).length > 0;
  if (routingKey === "" && !hasArgs) return "~";
  const key = quoteKeyPart(routingKey);
  return hasArgs ? `${key}~${quoteKeyPart(argsHash(args))}` : key;
}

export function bindingJson(b: Binding): Record<string, unknown> {
  return {
    source: b.source,
    vhost: VHOST,
    destination: b.destination,
    destination_type: b.destKind,
    routing_key: b.routingKey,
    arguments: b.args,
    properties_key: propertiesKey(b.routingKey, b.args),
  };
}

/** The binding every queue has from the default exchange, which RabbitMQ lists too. */
export function defaultBinding(q: Queue): Binding {
  return { source: "", destKind: "queue", destination: q.name, routingKey: q.name, args: {} };
}
