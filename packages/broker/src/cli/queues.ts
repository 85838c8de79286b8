// `spindle queues list|declare|delete|purge|peek|move` over the management API's /api/queues.
// Invariant: names travel as one encoded path segment each, so any queue name (with `/`, `#`, `%`) works.

import { Command, Option } from "commander";
import { type AdminEnv, action, collect, common, pairs } from "./command.ts";
import { seg } from "./http-client.ts";
import { table } from "./output.ts";
import { queuePath, queueWhat, vhostWhat } from "./paths.ts";
import { moveCommand, peekCommand } from "./queue-messages.ts";

interface QueueInfo {
  readonly name: string;
  readonly durable?: boolean;
  readonly auto_delete?: boolean;
  readonly exclusive?: boolean;
  readonly messages?: number;
  readonly messages_ready?: number;
  readonly messages_unacknowledged?: number;
  readonly consumers?: number;
  readonly state?: string;
}

export function queuesCommand(env: AdminEnv): Command {
  const group = new Command("queues").description(
    "list, declare, delete, purge, peek into and move between queues",
  );
  group.addCommand(listCommand(env));
  group.addCommand(declareCommand(env));
  group.addCommand(deleteCommand(env));
  group.addCommand(purgeCommand(env));
  group.addCommand(peekCommand(env));
  group.addCommand(moveCommand(env));
  return group;
}

function listCommand(env: AdminEnv): Command {
  const cmd = common(new Command("list").description("the queues of a vhost"), { vhost: true });
  return action(cmd, env, async (ctx) => {
    const queues = await ctx.client.get<QueueInfo[]>(`/api/queues/${seg(ctx.vhost)}`, {
      what: vhostWhat(ctx.vhost),
    });
    ctx.result(queues, () =>
      table(queues, [
        { header: "name", get: (q) => q.name },
        { header: "durable", get: (q) => q.durable },
        { header: "auto_delete", get: (q) => q.auto_delete },
        { header: "exclusive", get: (q) => q.exclusive },
        { header: "messages", get: (q) => q.messages },
        { header: "ready", get: (q) => q.messages_ready },
        { header: "unacked", get: (q) => q.messages_unacknowledged },
        { header: "consumers", get: (q) => q.consumers },
        { header: "state", get: (q) => q.state },
      ]),
    );
  });
}

function declareCommand(env: AdminEnv): Command {
  const cmd = common(
    new Command("declare")
      .description("declare a queue (as AMQP queue.declare: the same arguments again is not an error)")
      .argument("<name>", "queue name")
      .option("--no-durable", "a transient queue (gone after a restart)")
      .option("--auto-delete", "delete the queue when its last consumer goes")
      .addOption(
        new Option("-a, --argument <key=value>", "x-argument, repeatable, e.g. x-message-ttl=60000")
          .argParser(collect)
          .default([]),
      ),
    { vhost: true },
  );
  return action(cmd, env, async (ctx, [name]) => {
    const body = {
      durable: ctx.opts.durable !== false,
      auto_delete: ctx.opts.autoDelete === true,
      arguments: pairs(ctx.opts.argument as string[], "--argument", true),
    };
    await ctx.client.put(queuePath(ctx.vhost, name!), { body, what: vhostWhat(ctx.vhost) });
    ctx.result({ declared: name }, () => [`declared queue ${JSON.stringify(name)}`]);
  });
}

function deleteCommand(env: AdminEnv): Command {
  const cmd = common(
    new Command("delete")
      .description("delete a queue and its messages")
      .argument("<name>", "queue name")
      .option("--if-empty", "only if it holds no messages")
      .option("--if-unused", "only if it has no consumers"),
    { vhost: true },
  );
  return action(cmd, env, async (ctx, [name]) => {
    await ctx.client.delete(queuePath(ctx.vhost, name!), {
      query: {
        "if-empty": ctx.opts.ifEmpty === true ? "true" : undefined,
        "if-unused": ctx.opts.ifUnused === true ? "true" : undefined,
      },
      what: queueWhat(name!, ctx.vhost),
    });
    ctx.result({ deleted: name }, () => [`deleted queue ${JSON.stringify(name)}`]);
  });
}

function purgeCommand(env: AdminEnv): Command {
  const cmd = common(
    new Command("purge").description("remove a queue's ready messages").argument("<name>", "queue name"),
    { vhost: true },
  );
  return action(cmd, env, async (ctx, [name]) => {
    await ctx.client.delete(`${queuePath(ctx.vhost, name!)}/contents`, { what: queueWhat(name!, ctx.vhost) });
    ctx.result({ purged: name }, () => [`purged queue ${JSON.stringify(name)}`]);
  });
}
