// GET /api/definitions[/{vhost}] exports the broker's definitions in RabbitMQ's format; POST imports such a
// file (definitions-import.ts). Invariant: an export imports back unchanged (`rabbitmqadmin export` then
// `import` round-trips) and holds what can be declared again: no exclusive queues, no default or amq.*
// exchanges, no default-exchange bindings, nothing bound to an exclusive queue.

import { createHash } from "node:crypto";
import { Hono } from "hono";
import { type Binding, type Exchange, type Queue, VHOST } from "../../queues/index.ts";
import type { HttpContext } from "./context.ts";
import { applyImport, planImport } from "./definitions-import.ts";
import { jsonBody } from "./errors.ts";
import { vhostParam } from "./params.ts";

type Json = Record<string, unknown>;

/** RabbitMQ's password_hash of guest/guest (rabbit_password_hashing_sha256: salt, then SHA-256 of salt and
 *  password, in base64), with a fixed salt so that exports compare equal. */
function guestPasswordHash(): string {
  const salt = Buffer.from([0x53, 0x70, 0x69, 0x6e]);
  const digest = createHash("sha256")
    .update(Buffer.concat([salt, Buffer.from("guest")]))
    .digest();
  return Buffer.concat([salt, digest]).toString("base64");
}

function exportable(ctx: HttpContext): { queues: Queue[]; exchanges: Exchange[]; bindings: Binding[] } {
  const queues = [...ctx.vhost.queues.values()].filter((q) => q.opts.exclusiveOwner === null);
  const kept = new Set(queues.map((q) => q.name));
  const exchanges = [...ctx.vhost.exchanges.values()].filter(
    (e) => e.name !== "" && !e.name.startsWith("amq."),
  );
  const bindings = [...ctx.vhost.exchanges.values()]
    .flatMap((e) => e.allBindings())
    .filter((b) => b.destKind === "exchange" || kept.has(b.destination));
  return { queues, exchanges, bindings };
}

/** The definitions; `scoped` (GET /api/definitions/{vhost}) leaves out users and the vhost fields, as RabbitMQ. */
function exportDefinitions(ctx: HttpContext, scoped: boolean): Json {
  const { queues, exchanges, bindings } = exportable(ctx);
  const vhost = scoped ? {} : { vhost: VHOST };
  const head = {
    rabbit_version: ctx.version,
    rabbitmq_version: ctx.version,
    product_name: "Spindle",
    product_version: ctx.version,
  };
  const cluster = {
    users: [
      {
        name: "guest",
        password_hash: guestPasswordHash(),
        hashing_algorithm: "rabbit_password_hashing_sha256",
        tags: ["administrator"],
        limits: {},
      },
    ],
    vhosts: [{ name: VHOST, limits: [], metadata: { description: "Default virtual host", tags: [] } }],
    permissions: [{ user: "guest", vhost: VHOST, configure: ".*", write: ".*", read: ".*" }],
    topic_permissions: [],
    global_parameters: [],
  };
  return {
    ...head,
    ...(scoped ? {} : cluster),
    parameters: [],
    policies: [],
    queues: queues.map((q) => ({
      name: q.name,
      ...vhost,
      durable: q.opts.durable,
      auto_delete: q.opts.autoDelete,
      arguments: q.opts.args,
      type: typeof q.opts.args["x-queue-type"] === "string" ? q.opts.args["x-queue-type"] : "classic",
    })),
    exchanges: exchanges.map(({ def }) => ({
      name: def.name,
      ...vhost,
      type: def.type,
      durable: def.durable,
      auto_delete: def.autoDelete,
      internal: def.internal,
      arguments: def.args,
    })),
    bindings: bindings.map((b) => ({
      source: b.source,
      ...vhost,
      destination: b.destination,
      destination_type: b.destKind,
      routing_key: b.routingKey,
      arguments: b.args,
    })),
  };
}

export function definitionsRoutes(ctx: HttpContext): Hono {
  const app = new Hono();
  app.get("/definitions", (c) => c.json(exportDefinitions(ctx, false)));
  app.get("/definitions/:vhost", (c) => {
    vhostParam(c);
    return c.json(exportDefinitions(ctx, true));
  });
  const load = async (doc: Json, scoped: boolean) => applyImport(ctx, planImport(ctx, doc, scoped));
  app.post("/definitions", async (c) => {
    await load(await jsonBody(c), false);
    return c.body(null, 204);
  });
  app.post("/definitions/:vhost", async (c) => {
    vhostParam(c);
    await load(await jsonBody(c), true);
    return c.body(null, 204);
  });
  return app;
}
