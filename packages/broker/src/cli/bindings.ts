// `spindle bindings list|declare|delete` over the management API's /api/bindings.
// Invariant: delete removes exactly the bindings with the given routing key (and arguments, when given),
// addressed by the properties_key the server lists for them; none matching is an error (exit 1).

import { isDeepStrictEqual } from "node:util";
import { Command, Option } from "commander";
import { type AdminEnv, action, collect, common, pairs } from "./command.ts";
import { serverError } from "./errors.ts";
import { seg } from "./http-client.ts";
import { table } from "./output.ts";
import { exchangeWhat, vhostWhat } from "./paths.ts";

interface BindingInfo {
  readonly source: string;
  readonly destination: string;
  readonly destination_type: "queue" | "exchange";
  readonly routing_key: string;
  readonly arguments?: Record<string, unknown>;
  readonly properties_key?: string;
}

export function bindingsCommand(env: AdminEnv): Command {
  const group = new Command("bindings").description("list, declare and delete bindings");
  group.addCommand(listCommand(env));
  group.addCommand(declareCommand(env));
  group.addCommand(deleteCommand(env));
  return group;
}

function listCommand(env: AdminEnv): Command {
  const cmd = common(new Command("list").description("the bindings of a vhost"), { vhost: true });
  return action(cmd, env, async (ctx) => {
    const bindings = await ctx.client.get<BindingInfo[]>(`/api/bindings/${seg(ctx.vhost)}`, {
      what: vhostWhat(ctx.vhost),
    });
    ctx.result(bindings, () =>
      table(bindings, [
        { header: "source", get: (b) => (b.source === "" ? "(AMQP default)" : b.source) },
        { header: "destination", get: (b) => b.destination },
        { header: "destination_type", get: (b) => b.destination_type },
        { header: "routing_key", get: (b) => b.routing_key },
        { header: "arguments", get: (b) => (Object.keys(b.arguments ?? {}).length > 0 ? b.arguments : "") },
      ]),
    );
  });
}

/** The source/destination arguments and options declare and delete share. */
function bindingCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .argument("<source>", "source exchange")
    .argument("<destination>", "destination queue (or exchange, with --destination-type exchange)")
    .option("-k, --routing-key <key>", "routing key", "")
    .addOption(
      new Option("--destination-type <type>", "what the destination is")
        .choices(["queue", "exchange"])
        .default("queue"),
    )
    .addOption(
      new Option(
        "-a, --argument <key=value>",
        "binding argument, repeatable (headers exchanges: x-match=all)",
      )
        .argParser(collect)
        .default([]),
    );
}

/** `/api/bindings/{vhost}/e/{source}/q|e/{destination}` */
function pairPath(vhost: string, source: string, destination: string, type: unknown): string {
  const src = source === "" ? "amq.default" : source;
  return `/api/bindings/${seg(vhost)}/e/${seg(src)}/${type === "exchange" ? "e" : "q"}/${seg(destination)}`;
}

function declareCommand(env: AdminEnv): Command {
  const cmd = common(bindingCommand("declare", "bind a queue or exchange to an exchange"), { vhost: true });
  return action(cmd, env, async (ctx, [source, destination]) => {
    const body = {
      routing_key: ctx.opts.routingKey,
      arguments: pairs(ctx.opts.argument as string[], "--argument", true),
    };
    await ctx.client.post(pairPath(ctx.vhost, source!, destination!, ctx.opts.destinationType), {
      body,
      what: `exchange or ${ctx.opts.destinationType} (${JSON.stringify(source)} → ${JSON.stringify(destination)}) in vhost ${JSON.stringify(ctx.vhost)}`,
    });
    ctx.result({ source, destination, destination_type: ctx.opts.destinationType, ...body }, () => [
      `bound ${ctx.opts.destinationType} ${JSON.stringify(destination)} to exchange ${JSON.stringify(source)} with routing key ${JSON.stringify(ctx.opts.routingKey)}`,
    ]);
  });
}

function deleteCommand(env: AdminEnv): Command {
  const cmd = common(bindingCommand("delete", "remove a binding"), { vhost: true });
  return action(cmd, env, async (ctx, [source, destination]) => {
    const path = pairPath(ctx.vhost, source!, destination!, ctx.opts.destinationType);
    const args = ctx.opts.argument as string[];
    const wanted = pairs(args, "--argument", true);
    const listed = await ctx.client.get<BindingInfo[]>(path, { what: exchangeWhat(source!, ctx.vhost) });
    const matching = listed.filter(
      (b) =>
        b.routing_key === ctx.opts.routingKey &&
        (args.length === 0 || isDeepStrictEqual(b.arguments ?? {}, wanted)),
    );
    if (matching.length === 0) {
      throw serverError(
        `no binding from exchange ${JSON.stringify(source)} to ${ctx.opts.destinationType} ${JSON.stringify(destination)} ` +
          `with routing key ${JSON.stringify(ctx.opts.routingKey)}; see spindle bindings list`,
      );
    }
    for (const b of matching) {
      await ctx.client.delete(`${path}/${seg(b.properties_key ?? b.routing_key)}`, { what: "binding" });
    }
    ctx.result({ deleted: matching.length }, () => [
      `deleted ${matching.length} binding${matching.length === 1 ? "" : "s"}`,
    ]);
  });
}
