// `spindle consume`: messages from a queue (-q, basic.get through /api/queues/…/get with an ack mode) or
// records from a topic (-t, like kcat -C -e: from an offset to the end). One value per line by default,
// kcat's -f format, or --json (one JSON object per line).
// Invariant: values reach stdout as their bytes (base64 from the API is decoded), each record once, in order.

import { Command, Option } from "commander";
import { type AdminEnv, action, type Ctx, common, intOption } from "./command.ts";
import { usageError } from "./errors.ts";
import { queuePath, queueWhat } from "./paths.ts";
import { compileFormat, type Item } from "./record-format.ts";
import { parseStartOffset, readTopic, type TopicRecord } from "./topic-reader.ts";

const ACK_MODES = ["ack_requeue_false", "ack_requeue_true", "reject_requeue_true", "reject_requeue_false"];

interface GotMessage {
  readonly payload: string;
  readonly payload_encoding: "string" | "base64";
  readonly routing_key: string;
  readonly exchange?: string;
  readonly redelivered?: boolean;
  readonly properties?: { headers?: Record<string, unknown>; timestamp?: number };
}

export function consumeCommand(env: AdminEnv): Command {
  const cmd = common(
    new Command("consume")
      .description("print messages from a queue (-q) or records from a topic (-t), one value per line")
      .option("-q, --queue <name>", "get messages from this queue")
      .option("-t, --topic <name>", "read records from this topic, up to its end")
      .addOption(
        new Option(
          "-c, --count <n>",
          "at most n messages/records (queue default 1; topic default: to the end)",
        ).argParser(intOption(1)),
      )
      .addOption(
        new Option("--ack-mode <mode>", "queue: what happens to the messages got")
          .choices(ACK_MODES)
          .default("ack_requeue_false"),
      )
      .addOption(new Option("-p, --partition <n>", "topic: only this partition").argParser(intOption()))
      .option(
        "-o, --offset <where>",
        "topic: start at beginning, end, N, -N (N before the end) or s@MS",
        "beginning",
      )
      .option(
        "-f, --format <format>",
        "kcat's format: %s value, %k key, %t topic, %p partition, %o offset, %T, %h",
      ),
    { vhost: true },
  );
  return action(cmd, env, async (ctx) => {
    const format = compileFormat(ctx.opts.format as string | undefined); // a bad format fails before reading
    const write = (item: Item, raw: object) =>
      ctx.io.write(ctx.json ? `${JSON.stringify(raw)}\n` : format(item));
    const queue = ctx.opts.queue as string | undefined;
    const topic = ctx.opts.topic as string | undefined;
    if ((queue === undefined) === (topic === undefined))
      throw usageError("give exactly one of -q QUEUE and -t TOPIC");
    if (queue !== undefined) return await consumeQueue(ctx, queue, write);
    const from = parseStartOffset(ctx.opts.offset as string);
    const count = ctx.opts.count as number | undefined;
    const partition = ctx.opts.partition as number | undefined;
    const read = readTopic(ctx.client, topic!, {
      from,
      ...(count === undefined ? {} : { count }),
      ...(partition === undefined ? {} : { partition }),
    });
    for await (const r of read) write(recordItem(topic!, r), { topic, ...r });
  });
}

async function consumeQueue(
  ctx: Ctx,
  queue: string,
  write: (item: Item, raw: object) => void,
): Promise<void> {
  const got = await ctx.client.post<GotMessage[]>(`${queuePath(ctx.vhost, queue)}/get`, {
    body: { count: (ctx.opts.count as number | undefined) ?? 1, ackmode: ctx.opts.ackMode, encoding: "auto" },
    what: queueWhat(queue, ctx.vhost),
  });
  for (const m of got) {
    const item: Item = {
      topic: queue,
      key: Buffer.from(m.routing_key, "utf8"),
      value: Buffer.from(m.payload, m.payload_encoding === "base64" ? "base64" : "utf8"),
      headers: stringValues(m.properties?.headers ?? {}),
      ...(typeof m.properties?.timestamp === "number" ? { timestamp: m.properties.timestamp } : {}),
    };
    write(item, m);
  }
}

function recordItem(topic: string, r: TopicRecord): Item {
  return {
    topic,
    partition: r.partition,
    offset: r.offset,
    ...(r.timestamp === undefined ? {} : { timestamp: r.timestamp }),
    key: decode(r.key, r.key_encoding),
    value: decode(r.value, r.value_encoding),
    headers: stringValues(r.headers ?? {}),
  };
}

/** The API's value back to bytes; a JSON value (pretty-printed by the API) is written compact, on one line. */
function decode(v: string | null | undefined, encoding: string | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  if (encoding === "base64") return Buffer.from(v, "base64");
  return Buffer.from(encoding === "json" ? compactJson(v) : v, "utf8");
}

/**
 * JSON text without the whitespace between tokens; strings and numbers are copied as written (a
 * JSON.parse round trip would cut a big number's digits).
 */
export function compactJson(text: string): string {
  let out = "";
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      i = j;
    } else if (c === " " || c === "\n" || c === "\r" || c === "\t") {
      out += text.slice(from, i);
      from = i + 1;
    }
  }
  return out + text.slice(from);
}

function stringValues(headers: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k, typeof v === "string" ? v : (JSON.stringify(v) ?? "")]),
  );
}
