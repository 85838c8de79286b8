// GET /api/stream: live data as server-sent events, one `stats` event per interval (see live-sample.ts).
// Invariant: one sampler per (interval, queue listing) serves every client that asked for it, on the
// Clock, and runs only while someone listens; each event is encoded once. A client that does not read
// loses events instead of making the broker buffer them (at most LIMITS.liveClientBufferBytesMax each) and
// is disconnected once its buffer has stayed full for LIMITS.liveClientBehindMsMax. Comment lines keep idle
// proxies from closing the stream.

import { Hono } from "hono";
import { LIMITS, type TimerHandle } from "../../lib/index.ts";
import type { HttpContext } from "./context.ts";
import { type Counters, LIVE_TOP_DEFAULT, liveSample, readCounters } from "./live-sample.ts";
import { badRequest, intValue } from "./params.ts";

const INTERVAL_DEFAULT_MS = 1000;
/** a comment line this often, whatever the interval: proxies close streams idle for a minute or so */
const HEARTBEAT_MS = 15_000;

const utf8 = new TextEncoder();

/** One client's stream: events are dropped while it has a buffer's worth unread. */
class Client {
  /** since when its buffer has been full (undefined: it has room) */
  private fullSinceMs: number | undefined;
  constructor(
    private readonly out: ReadableStreamDefaultController<Uint8Array>,
    private readonly nowMs: () => number,
    private readonly onClose: () => void,
  ) {}

  /** Queues `chunk` if the client keeps up; closes the stream once it has been behind for too long. */
  send(chunk: Uint8Array): void {
    const room = this.out.desiredSize;
    if (room === null) return;
    if (room > 0) {
      this.fullSinceMs = undefined;
      this.out.enqueue(chunk);
      return;
    }
    this.fullSinceMs ??= this.nowMs();
    if (this.nowMs() - this.fullSinceMs >= LIMITS.liveClientBehindMsMax) this.close();
  }

  close(): void {
    try {
      this.out.close();
    } catch {
      // already closed or cancelled
    }
    this.onClose();
  }
}

/** Samples every `intervalMs` while it has clients, and sends each of them the same bytes. */
class Sampler {
  readonly clients = new Set<Client>();
  private timer: TimerHandle | undefined;
  private heartbeat: TimerHandle | undefined;
  private prev: Counters | undefined;
  private prevMs = 0;
  private sampling = false;
  /** the last event, sent to a client as soon as it joins */
  last: Uint8Array | undefined;

  constructor(
    private readonly ctx: HttpContext,
    private readonly intervalMs: number,
    private readonly top: number,
  ) {}

  start(): void {
    this.prev = readCounters(this.ctx);
    this.prevMs = this.ctx.clock.nowMs();
    this.timer = this.ctx.clock.setRepeating(this.intervalMs, () => this.tick());
    this.heartbeat = this.ctx.clock.setRepeating(HEARTBEAT_MS, () =>
      this.broadcast(utf8.encode(`: keep-alive ${this.ctx.clock.nowMs()}\n\n`)),
    );
  }

  stop(): void {
    this.ctx.clock.clearTimer(this.timer);
    this.ctx.clock.clearTimer(this.heartbeat);
    this.timer = undefined;
    this.last = undefined;
  }

  private tick(): void {
    const now = this.ctx.clock.nowMs();
    if (this.sampling) return; // the previous sample still waits for the disk: skip this one
    this.sampling = true;
    const cur = readCounters(this.ctx);
    const prev = this.prev ?? cur;
    const elapsedMs = now - this.prevMs;
    this.prev = cur;
    this.prevMs = now;
    liveSample(this.ctx, cur, prev, elapsedMs, this.top)
      .then((sample) => {
        if (this.timer === undefined) return; // stopped meanwhile
        this.last = utf8.encode(`event: stats\ndata: ${JSON.stringify(sample)}\n\n`);
        this.broadcast(this.last);
      })
      .catch((err: unknown) => this.ctx.logger.error({ err }, "live data: a sample failed"))
      .finally(() => {
        this.sampling = false;
      });
  }

  private broadcast(chunk: Uint8Array): void {
    for (const c of [...this.clients]) c.send(chunk);
  }
}

/** The samplers, by interval and listing, each running only while it has clients. */
class LiveHub {
  private readonly samplers = new Map<string, Sampler>();
  constructor(private readonly ctx: HttpContext) {}

  subscribe(intervalMs: number, top: number, aborted: AbortSignal): Response {
    const key = `${intervalMs}/${top}`;
    let client: Client | undefined;
    const leave = () => {
      const s = this.samplers.get(key);
      if (client === undefined || s === undefined || !s.clients.delete(client)) return;
      if (s.clients.size === 0) {
        s.stop();
        this.samplers.delete(key);
      }
    };
    const body = new ReadableStream<Uint8Array>(
      {
        start: (out) => {
          let s = this.samplers.get(key);
          if (s === undefined) {
            s = new Sampler(this.ctx, intervalMs, top);
            this.samplers.set(key, s);
            s.start();
          }
          client = new Client(out, () => this.ctx.clock.nowMs(), leave);
          s.clients.add(client);
          // retry: where EventSource reconnects after a drop; the comment gets the headers out at once
          out.enqueue(utf8.encode(`retry: 3000\n: spindle live data every ${intervalMs} ms\n\n`));
          if (s.last !== undefined) client.send(s.last);
        },
        cancel: leave,
      },
      { highWaterMark: LIMITS.liveClientBufferBytesMax, size: (chunk) => chunk.byteLength },
    );
    aborted.addEventListener("abort", leave, { once: true });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        "x-accel-buffering": "no", // nginx: pass events on as they come
      },
    });
  }
}

export function liveRoutes(ctx: HttpContext): Hono {
  const hub = new LiveHub(ctx);
  return new Hono().get("/stream", (c) => {
    const intervalMs =
      intValue(
        c.req.query("interval_ms"),
        "interval_ms",
        LIMITS.liveIntervalMsMin,
        LIMITS.liveIntervalMsMax,
      ) ?? INTERVAL_DEFAULT_MS;
    const queues = c.req.query("queues");
    if (queues !== undefined && queues !== "all")
      throw badRequest(`'queues' must be "all" (or left out for the ${LIVE_TOP_DEFAULT} deepest)`);
    const top = queues === "all" ? Number.POSITIVE_INFINITY : LIVE_TOP_DEFAULT;
    return hub.subscribe(intervalMs, top, c.req.raw.signal);
  });
}
