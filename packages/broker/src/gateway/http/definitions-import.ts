// Importing a definitions file (RabbitMQ's export format): every entry is checked against the model and the
// rest of the file first, then exchanges, queues and bindings are declared with the same Vhost calls AMQP
// uses. Invariant: a file that cannot be imported whole changes nothing (the checks that can fail come
// before the first declare) and its error names the entry; importing the same file again changes nothing.

import { BrokerError } from "../../lib/index.ts";
import {
  type Binding,
  checkQueueEquivalent,
  DELAYED_TYPE,
  type ExchangeDef,
  exchangeInequivalence,
  isExchangeType,
  parseQueuePolicy,
  type QueueDeclare,
  type QueueOptions,
  VHOST,
} from "../../queues/index.ts";
import type { HttpContext } from "./context.ts";
import { argsField, boolField, HTTP_OWNER, stringField } from "./params.ts";

type Item = Readonly<Record<string, unknown>>;

export interface ImportPlan {
  readonly exchanges: readonly ExchangeDef[];
  readonly queues: readonly QueueDeclare[];
  readonly bindings: readonly Binding[];
}

const bad = (reason: string) => new BrokerError("INVALID_REQUEST", reason);

/** A list section of the file, each entry an object. */
function section(doc: Item, key: string): Item[] {
  const v = doc[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw bad(`'${key}' must be a list`);
  return v.map((x, i) => {
    if (x === null || typeof x !== "object" || Array.isArray(x)) throw bad(`${key}[${i}] must be an object`);
    return x as Item;
  });
}

/** Checks what Spindle has one of (vhost "/", user guest) and has none of (policies, parameters). */
function checkOthers(doc: Item, scoped: boolean): void {
  if (scoped) return;
  for (const v of section(doc, "vhosts")) {
    if (v.name !== VHOST) throw bad(`vhost ${JSON.stringify(v.name)}: Spindle has the one vhost '/'`);
  }
  for (const u of section(doc, "users")) {
    if (u.name !== "guest") throw bad(`user ${JSON.stringify(u.name)}: Spindle has the one user guest`);
  }
  for (const p of section(doc, "permissions")) {
    if (p.user !== "guest" || p.vhost !== VHOST) {
      throw bad(
        `permissions of ${JSON.stringify(p.user)} on ${JSON.stringify(p.vhost)}: only guest on '/' exist`,
      );
    }
  }
  for (const g of section(doc, "global_parameters")) {
    // every RabbitMQ export names its cluster; that has no meaning here and is not kept
    if (g.name !== "cluster_name") throw bad(`global parameter ${JSON.stringify(g.name)} is not supported`);
  }
  const none = ["topic_permissions", "parameters"];
  for (const key of none) {
    const first = section(doc, key)[0];
    if (first !== undefined) throw bad(`${key} are not supported (${JSON.stringify(first.name ?? first)})`);
  }
}

function noPolicies(doc: Item): void {
  const first = section(doc, "policies")[0];
  if (first !== undefined) {
    throw bad(
      `policy ${JSON.stringify(first.name)}: policies are not supported; give its keys as queue arguments`,
    );
  }
}

function checkVhost(item: Item, what: string): void {
  if (item.vhost !== undefined && item.vhost !== VHOST) {
    throw bad(`${what}: vhost ${JSON.stringify(item.vhost)} does not exist (Spindle has the one vhost '/')`);
  }
}

function planExchanges(ctx: HttpContext, doc: Item): ExchangeDef[] {
  const planned = new Map<string, ExchangeDef>();
  for (const x of section(doc, "exchanges")) {
    const name = stringField(x, "name");
    checkVhost(x, `exchange '${name}'`);
    const def: ExchangeDef = {
      name,
      type: stringField(x, "type", "direct") as ExchangeDef["type"],
      durable: boolField(x, "durable", true),
      autoDelete: boolField(x, "auto_delete", false),
      internal: boolField(x, "internal", false),
      args: argsField(x),
    };
    const current = ctx.vhost.exchanges.get(name)?.def ?? planned.get(name);
    if (current !== undefined) {
      const diff = exchangeInequivalence(current, def);
      if (diff !== null) throw new BrokerError("PRECONDITION_FAILED", diff);
      continue;
    }
    if (name === "" || name.startsWith("amq.")) {
      throw bad(`exchange '${name}': the default exchange and names starting 'amq.' are reserved`);
    }
    if (!isExchangeType(def.type) && def.type !== DELAYED_TYPE) {
      throw bad(`exchange '${name}': invalid exchange type '${def.type}'`);
    }
    planned.set(name, def);
  }
  return [...planned.values()];
}

function planQueues(ctx: HttpContext, doc: Item): QueueDeclare[] {
  const planned = new Map<string, QueueDeclare>();
  for (const x of section(doc, "queues")) {
    const name = stringField(x, "name");
    checkVhost(x, `queue '${name}'`);
    const args = { ...argsField(x) };
    const type = x.type;
    if (typeof type === "string" && type !== "classic" && args["x-queue-type"] === undefined) {
      args["x-queue-type"] = type;
    }
    const decl: QueueDeclare = {
      name,
      passive: false,
      durable: boolField(x, "durable", true),
      exclusive: false,
      autoDelete: boolField(x, "auto_delete", false),
      args,
    };
    const earlier = planned.get(name);
    const current: QueueOptions | undefined =
      ctx.vhost.queues.get(name)?.opts ?? (earlier && { ...earlier, exclusiveOwner: null });
    if (current !== undefined) {
      checkQueueEquivalent(current, decl, HTTP_OWNER);
      continue;
    }
    if (name === "" || name.startsWith("amq.")) {
      throw bad(`queue '${name}': an empty name and names starting 'amq.' are reserved`);
    }
    parseQueuePolicy(name, args);
    planned.set(name, decl);
  }
  return [...planned.values()];
}

function planBindings(ctx: HttpContext, doc: Item, exchanges: Set<string>, queues: Set<string>): Binding[] {
  return section(doc, "bindings").map((x, i) => {
    const kind = x.destination_type;
    if (kind !== "queue" && kind !== "exchange") {
      throw bad(`bindings[${i}]: destination_type must be "queue" or "exchange"`);
    }
    const b: Binding = {
      source: stringField(x, "source"),
      destKind: kind,
      destination: stringField(x, "destination"),
      routingKey: stringField(x, "routing_key", ""),
      args: argsField(x),
    };
    const what = `binding of ${kind} '${b.destination}' to exchange '${b.source}'`;
    checkVhost(x, what);
    // a file that names what is not there is a bad file (400), not a missing resource of the API (404)
    if (b.source === "") throw bad(`${what}: the default exchange takes no bindings`);
    if (!exchanges.has(b.source)) throw bad(`${what}: no exchange '${b.source}'`);
    const there = kind === "queue" ? queues.has(b.destination) : exchanges.has(b.destination);
    if (!there) throw bad(`${what}: no ${kind} '${b.destination}'`);
    if (kind === "queue" && ctx.vhost.queues.has(b.destination)) ctx.vhost.queue(b.destination, HTTP_OWNER);
    return b;
  });
}

/** Everything the file declares, checked; throws (naming the entry) when any of it cannot be imported. */
export function planImport(ctx: HttpContext, doc: Item, scoped: boolean): ImportPlan {
  checkOthers(doc, scoped);
  noPolicies(doc);
  const exchanges = planExchanges(ctx, doc);
  const queues = planQueues(ctx, doc);
  const exchangeNames = new Set([...ctx.vhost.exchanges.keys(), ...exchanges.map((e) => e.name)]);
  const queueNames = new Set([...ctx.vhost.queues.keys(), ...queues.map((q) => q.name)]);
  const bindings = planBindings(ctx, doc, exchangeNames, queueNames);
  return { exchanges, queues, bindings };
}

/** Declares what the plan holds; each declare is durable before the next starts. */
export async function applyImport(ctx: HttpContext, plan: ImportPlan): Promise<void> {
  for (const def of plan.exchanges) await ctx.vhost.declareExchange(def, false);
  for (const decl of plan.queues) await ctx.vhost.declareQueue(decl, HTTP_OWNER);
  for (const b of plan.bindings) await ctx.vhost.bind(b);
}
