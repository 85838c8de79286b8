// `spindle queues peek` (a page of a queue's messages, unconsumed) and `spindle queues move` (ready
// messages to another queue, with a progress bar on a terminal). Invariant: peek changes nothing; move's
// result is what the server reported last, and a failure midway exits 1 with the server's reason.

import { Command, Option } from "commander";
import { type AdminEnv, action, common, intOption } from "./command.ts";
import { serverError } from "./errors.ts";
import { cellText, table, truncate } from "./output.ts";
import { queuePath, queueWhat } from "./paths.ts";
import { progressBar } from "./progress.ts";

interface PeekedMessage {
  readonly position: number;
  readonly state: string;
  readonly exchange: string;
  readonly routing_key: string;
  readonly redelivered: boolean;
  readonly payload: string;
  readonly payload_bytes: number;
  readonly payload_encoding: "string" | "base64";
  readonly properties?: { readonly headers?: Record<string, unknown> };
}

interface PeekPage {
  readonly messages: PeekedMessage[];
  readonly next: number | null;
}

interface MoveStep {
  readonly moved?: number;
  readonly total?: number;
  readonly done?: boolean;
}

const PAYLOAD_COLUMN_MAX = 60;
const HEADERS_COLUMN_MAX = 60;

export function peekCommand(env: AdminEnv): Command {
  const cmd = common(
    new Command("peek")
      .description("show a queue's messages without consuming them (ready and unacked, in queue order)")
      .argument("<name>", "queue name")
      .addOption(
        new Option("--from <position>", "start at this position (a page's `next`)").argParser(intOption()),
      )
      .addOption(
        new Option("--limit <n>", "messages per page (at most 1000)").argParser(intOption(1)).default(20),
      )
      .option("--filter <text>", "only messages whose payload or a header value contains the text"),
    { vhost: true },
  );
  return action(cmd, env, async (ctx, [name]) => {
    const page = await ctx.client.get<PeekPage>(`${queuePath(ctx.vhost, name!)}/messages`, {
      query: {
        from: ctx.opts.from as number | undefined,
        limit: ctx.opts.limit as number,
        filter: ctx.opts.filter as string | undefined,
      },
      what: queueWhat(name!, ctx.vhost),
    });
    ctx.result(page, () =>
      table(page.messages, [
        { header: "position", get: (m) => m.position },
        { header: "state", get: (m) => m.state },
        { header: "exchange", get: (m) => m.exchange },
        { header: "routing_key", get: (m) => m.routing_key },
        { header: "redelivered", get: (m) => m.redelivered },
        { header: "bytes", get: (m) => m.payload_bytes },
        { header: "payload", get: (m) => truncate(payloadText(m), PAYLOAD_COLUMN_MAX) },
        { header: "headers", get: (m) => truncate(headersText(m), HEADERS_COLUMN_MAX) },
      ]),
    );
    if (!ctx.json && page.next !== null) {
      ctx.io.error(`more: spindle queues peek ${JSON.stringify(name)} --from ${page.next}`);
    }
  });
}

/** Headers as compact JSON (a dead-lettered message's x-death says why it is here), none as "". */
function headersText(m: PeekedMessage): string {
  const headers = m.properties?.headers;
  return headers === undefined || Object.keys(headers).length === 0 ? "" : cellText(headers);
}

const payloadText = (m: PeekedMessage): string =>
  m.payload_encoding === "base64" ? `base64:${m.payload}` : m.payload;

export function moveCommand(env: AdminEnv): Command {
  const cmd = common(
    new Command("move")
      .description("move ready messages (oldest first) to another queue of the vhost")
      .argument("<name>", "source queue")
      .requiredOption("--to <queue>", "destination queue")
      .addOption(new Option("--count <n>", "move at most n messages (default: all)").argParser(intOption(1)))
      .option("--filter <text>", "only messages whose payload or a header value contains the text"),
    { vhost: true },
  );
  return action(cmd, env, async (ctx, [name]) => {
    const body = { destination: ctx.opts.to, count: ctx.opts.count, filter: ctx.opts.filter };
    const bar = progressBar(ctx.io.progressTty, "moving");
    let last: MoveStep = {};
    try {
      await ctx.client.ndjson(
        "POST",
        `${queuePath(ctx.vhost, name!)}/move`,
        { body, what: queueWhat(name!, ctx.vhost) },
        (o) => {
          last = o as MoveStep;
          bar.update(last.moved ?? 0, last.total ?? 0);
        },
      );
    } finally {
      bar.finish();
    }
    if (typeof last.moved !== "number")
      throw serverError(`the move answered no count: ${JSON.stringify(last)}`);
    const moved = last.moved;
    ctx.result({ moved }, () => [
      `moved ${moved} message${moved === 1 ? "" : "s"} from ${JSON.stringify(name)} to ${JSON.stringify(ctx.opts.to)}`,
    ]);
  });
}
