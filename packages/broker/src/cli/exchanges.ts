// `spindle exchanges list|declare|delete` over the management API's /api/exchanges.
// Invariant: the default exchange ("") is shown as RabbitMQ shows it and addressed as `amq.default`.

import { Command, Option } from "commander";
import { type AdminEnv, action, collect, common, pairs } from "./command.ts";
import { seg } from "./http-client.ts";
import { table } from "./output.ts";
import { exchangePath, exchangeWhat, vhostWhat } from "./paths.ts";

interface ExchangeInfo {
  readonly name: string;
  readonly type?: string;
  readonly durable?: boolean;
  readonly auto_delete?: boolean;
  readonly internal?: boolean;
  readonly arguments?: Record<string, unknown>;
}

export function exchangesCommand(env: AdminEnv): Command {
  const group = new Command("exchanges").description("list, declare and delete exchanges");
  group.addCommand(listCommand(env));
  group.addCommand(declareCommand(env));
  group.addCommand(deleteCommand(env));
  return group;
}

function listCommand(env: AdminEnv): Command {
  const cmd = common(new Command("list").description("the exchanges of a vhost"), { vhost: true });
  return action(cmd, env, async (ctx) => {
    const exchanges = await ctx.client.get<ExchangeInfo[]>(`/api/exchanges/${seg(ctx.vhost)}`, {
      what: vhostWhat(ctx.vhost),
    });
    ctx.result(exchanges, () =>
      table(exchanges, [
        { header: "name", get: (e) => (e.name === "" ? "(AMQP default)" : e.name) },
        { header: "type", get: (e) => e.type },
        { header: "durable", get: (e) => e.durable },
        { header: "auto_delete", get: (e) => e.auto_delete },
        { header: "internal", get: (e) => e.internal },
        { header: "arguments", get: (e) => (Object.keys(e.arguments ?? {}).length > 0 ? e.arguments : "") },
      ]),
    );
  });
}

function declareCommand(env: AdminEnv): Command {
  const cmd = common(
    new Command("declare")
      .description("declare an exchange (as AMQP exchange.declare: the same arguments again is not an error)")
      .argument("<name>", "exchange name")
      .option("-t, --type <type>", "direct, fanout, topic, headers or x-delayed-message", "direct")
      .option("--no-durable", "a transient exchange (gone after a restart)")
      .option("--auto-delete", "delete the exchange when its last binding goes")
      .option("--internal", "clients cannot publish to it, only other exchanges")
      .addOption(
        new Option("-a, --argument <key=value>", "argument, repeatable, e.g. alternate-exchange=unrouted")
          .argParser(collect)
          .default([]),
      ),
    { vhost: true },
  );
  return action(cmd, env, async (ctx, [name]) => {
    const body = {
      type: ctx.opts.type,
      durable: ctx.opts.durable !== false,
      auto_delete: ctx.opts.autoDelete === true,
      internal: ctx.opts.internal === true,
      arguments: pairs(ctx.opts.argument as string[], "--argument", true),
    };
    await ctx.client.put(exchangePath(ctx.vhost, name!), { body, what: vhostWhat(ctx.vhost) });
    ctx.result({ declared: name }, () => [`declared exchange ${JSON.stringify(name)}`]);
  });
}

function deleteCommand(env: AdminEnv): Command {
  const cmd = common(
    new Command("delete")
      .description("delete an exchange and its bindings")
      .argument("<name>", "exchange name")
      .option("--if-unused", "only if it has no bindings"),
    { vhost: true },
  );
  return action(cmd, env, async (ctx, [name]) => {
    await ctx.client.delete(exchangePath(ctx.vhost, name!), {
      query: { "if-unused": ctx.opts.ifUnused === true ? "true" : undefined },
      what: exchangeWhat(name!, ctx.vhost),
    });
    ctx.result({ deleted: name }, () => [`deleted exchange ${JSON.stringify(name)}`]);
  });
}
