// POST /api/queues/{vhost}/{name}/move: moves ready messages to another queue of the vhost (a dead-letter
// queue's redrive), answered as one JSON object at the end, or as NDJSON progress lines while it runs
// (`Accept: application/x-ndjson`). Invariant: the request is checked (both queues exist and differ, the
// fields are well formed) before anything moves; once started, a move runs to its end even if the client
// goes away, since each batch is already safe on its own (stored in the destination, then settled).

import { type Context, Hono } from "hono";
import { BrokerError, isBrokerError } from "../../lib/index.ts";
import { type MoveOptions, moveMessages, type Queue, VHOST } from "../../queues/index.ts";
import type { HttpContext } from "./context.ts";
import { errorBody, HTTP_STATUS, jsonBody } from "./errors.ts";
import { messageFilter } from "./message-filter.ts";
import { HTTP_OWNER, intValue, stringField } from "./params.ts";
import { existing } from "./queues.ts";

export function queueMoveRoutes(ctx: HttpContext): Hono {
  return new Hono().post("/queues/:vhost/:name/move", async (c: Context) => {
    const source = ctx.vhost.queue(existing(ctx, c).name, HTTP_OWNER);
    const body = await jsonBody(c);
    const destName = stringField(body, "destination");
    if (!ctx.vhost.queues.has(destName)) {
      throw new BrokerError("NOT_FOUND", `no queue '${destName}' in vhost '${VHOST}' (the destination)`);
    }
    const destination = ctx.vhost.queue(destName, HTTP_OWNER);
    if (destination === source) {
      throw new BrokerError("INVALID_REQUEST", `'destination' is the queue itself: name another queue`);
    }
    const count = intValue(body.count ?? undefined, "count", 0);
    const match = messageFilter(body.filter);
    const opts: MoveOptions = {
      ...(count === undefined ? {} : { count }),
      ...(match === undefined ? {} : { match }),
    };
    // a move uses both queues, as a consumer and a publisher would: their x-expires countdowns restart
    ctx.vhost.touch(source);
    ctx.vhost.touch(destination);
    if ((c.req.header("accept") ?? "").includes("application/x-ndjson")) {
      return streamMove(source, destination, opts);
    }
    const done = await moveMessages(source, destination, opts);
    return c.json({ moved: done.moved });
  });
}

/** One line per progress step, then the result or the error as the last line. */
function streamMove(source: Queue, destination: Queue, opts: MoveOptions): Response {
  const lines = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let open = true;
      const line = (o: unknown): void => {
        if (!open) return;
        try {
          controller.enqueue(lines.encode(`${JSON.stringify(o)}\n`));
        } catch {
          open = false; // the client went away: the move goes on
        }
      };
      moveMessages(source, destination, { ...opts, onProgress: line })
        .then(
          (p) => line({ ...p, done: true }),
          (e: unknown) => line(errorLine(e)),
        )
        .finally(() => {
          if (open) controller.close();
        });
    },
    cancel() {
      // the client went away; the move goes on (see the invariant)
    },
  });
  return new Response(body, {
    status: 200,
    headers: { "content-type": "application/x-ndjson", "cache-control": "no-cache" },
  });
}

function errorLine(e: unknown): { error: string; reason: string } {
  if (isBrokerError(e)) return errorBody(HTTP_STATUS[e.code], e.message);
  return errorBody(500, e instanceof Error ? e.message : String(e));
}
