// `spindle publish`: one message to an exchange through /api/exchanges/{vhost}/{name}/publish.
// Invariant: the body is sent byte for byte — from the argument, or all of stdin (base64 when it is not
// UTF-8); a message no queue received is reported on stderr but is not a failure (the server took it).

import { Command, Option } from "commander";
import { type AdminEnv, action, collect, common, pairs } from "./command.ts";
import { usageError } from "./errors.ts";
import { readAll } from "./io.ts";
import { exchangePath, exchangeWhat } from "./paths.ts";

export function publishCommand(env: AdminEnv): Command {
  const cmd = common(
    new Command("publish")
      .description(
        "publish one message to an exchange; the body is the argument, or stdin when there is none",
      )
      .argument("[body]", "message body (default: all of stdin)")
      .option(
        "-e, --exchange <name>",
        'exchange ("" is the default exchange, which routes to the queue named by the key)',
        "",
      )
      .option("-k, --routing-key <key>", "routing key", "")
      .addOption(
        new Option("-H, --header <key=value>", "message header, repeatable").argParser(collect).default([]),
      )
      .addOption(
        new Option(
          "--property <key=value>",
          "message property, repeatable, e.g. content_type=application/json",
        )
          .argParser(collect)
          .default([]),
      )
      .option("--persistent", "delivery_mode 2: kept across a restart in a durable queue"),
    { vhost: true },
  );
  return action(cmd, env, async (ctx, [arg]) => {
    const exchange = ctx.opts.exchange as string;
    const payload = await bodyOf(arg, ctx.io.stdin, ctx.io.stdinIsTty);
    const properties: Record<string, unknown> = pairs(ctx.opts.property as string[], "--property", true);
    const headers = pairs(ctx.opts.header as string[], "--header", false);
    if (Object.keys(headers).length > 0) properties.headers = headers;
    if (ctx.opts.persistent === true) properties.delivery_mode = 2;
    const answer = await ctx.client.post<{ routed?: boolean }>(
      `${exchangePath(ctx.vhost, exchange)}/publish`,
      {
        body: { properties, routing_key: ctx.opts.routingKey, ...payload },
        what: exchangeWhat(exchange, ctx.vhost),
      },
    );
    const routed = answer?.routed === true;
    ctx.result({ routed }, () => (routed ? ["published"] : []));
    if (!routed && !ctx.json) {
      ctx.io.error(
        `spindle: published, but no queue received it: nothing bound to ${exchangeWhat(exchange, ctx.vhost)} ` +
          `matches routing key ${JSON.stringify(ctx.opts.routingKey)}`,
      );
    }
  });
}

type Payload = { payload: string; payload_encoding: "string" | "base64" };

async function bodyOf(
  arg: string | undefined,
  stdin: NodeJS.ReadableStream,
  stdinIsTty: boolean,
): Promise<Payload> {
  if (arg !== undefined) return { payload: arg, payload_encoding: "string" };
  if (stdinIsTty) throw usageError("no message body: give it as an argument or pipe it on stdin");
  const bytes = await readAll(stdin);
  const text = bytes.toString("utf8");
  return Buffer.from(text, "utf8").equals(bytes)
    ? { payload: text, payload_encoding: "string" }
    : { payload: bytes.toString("base64"), payload_encoding: "base64" };
}
