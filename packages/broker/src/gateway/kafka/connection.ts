// One Kafka client connection: frames in, requests dispatched, responses out in request order.
// Invariant: responses leave in the order their requests arrived; a malformed frame closes only this connection;
// a frame's body is read only once its declared size is reserved in the broker-wide RequestBudget.

import type { Socket } from "node:net";
import {
  ApiKey,
  decodeRequestHeader,
  KafkaErrorCode,
  KafkaReader,
  KafkaWriter,
  type RequestHeader,
  responseHeaderVersion,
  writeResponseHeader,
} from "@spindle/protocol";
import { LIMITS, type MemoryAccount, type TimerHandle } from "../../lib/index.ts";
import { FrameReader } from "./frame-reader.ts";
import type { KafkaBroker, KafkaHandler, RequestContext } from "./handler.ts";
import type { RequestBudget } from "./request-budget.ts";

interface Slot {
  /** undefined while the handler runs; null when nothing is to be sent */
  out: Buffer[] | null | undefined;
  /** the request's bytes in the RequestBudget, released once the response is written */
  readonly bytes: number;
  /** run once the response's bytes are in the kernel (see RequestContext.afterResponse) */
  readonly after?: (() => void)[];
}

export interface ConnectionOptions {
  broker: KafkaBroker;
  handlers: ReadonlyMap<number, KafkaHandler>;
  /** the ApiVersions v0 body listing every API, sent when a client asks for a version we lack */
  apiVersionsFallback: () => unknown;
  maxRequestBytes: number;
  /** request bytes across all connections */
  budget: RequestBudget;
  memory?: MemoryAccount;
  /** a request must arrive whole this long after its first byte (time spent not reading it does not count) */
  requestReceiveMs: number;
  /** no traffic either way for this long closes the connection */
  idleMs: number;
  /** how long producers are asked to wait after each Produce now (a resource alarm); 0 = not at all */
  produceThrottleMs: () => number;
}

export class KafkaConnection {
  private readonly frames: FrameReader;
  private readonly slots: Slot[] = [];
  private dead = false;
  private awaitingDrain = false;
  private readonly closeListeners = new Set<() => void>();
  private isClosed = false;
  /** bytes reserved for the frame being received (0: none yet) */
  private reservedBytes = 0;
  /** the socket waits, unread, until the budget has room for the frame being received */
  private waitingBudget = false;
  private receiveTimer: TimerHandle | undefined;
  /** set while a throttled producer's connection is not read (Kafka's channel muting) */
  private muteTimer: TimerHandle | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly opts: ConnectionOptions,
  ) {
    this.frames = new FrameReader(opts.maxRequestBytes);
    socket.once("close", () => {
      this.isClosed = true;
      opts.broker.clock.clearTimer(this.receiveTimer);
      opts.broker.clock.clearTimer(this.muteTimer);
      opts.budget.drop(this);
      for (const l of [...this.closeListeners]) l();
      this.closeListeners.clear();
    });
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => this.kill());
    socket.setTimeout(opts.idleMs, () => this.fail(`no traffic for ${opts.idleMs} ms`));
  }

  private onData(chunk: Buffer): void {
    if (this.dead) return;
    const { frames, error } = this.frames.push(chunk);
    for (const frame of frames) {
      // the first was reserved before its body was read; later ones arrived whole within this read
      let bytes = this.reservedBytes;
      this.reservedBytes = 0;
      if (bytes === 0) {
        bytes = frame.length;
        this.opts.budget.charge(this, bytes);
      }
      this.onFrame(frame, bytes);
    }
    if (error !== null) {
      this.fail(error);
      return;
    }
    if (frames.length > 0) this.stopReceiveTimer();
    this.reserveNext();
    this.startReceiveTimer();
  }

  /** The frame being received is read on only once its declared size is reserved. */
  private reserveNext(): void {
    const size = this.frames.partialFrameBytes;
    if (size === null || this.reservedBytes > 0 || this.waitingBudget || this.dead) return;
    const granted = this.opts.budget.take(this, size, () => {
      this.waitingBudget = false;
      this.reservedBytes = size;
      this.resumeIfRoom();
    });
    if (granted) {
      this.reservedBytes = size;
      return;
    }
    this.waitingBudget = true;
    this.pause();
  }

  /** A request that has begun must arrive whole in time: trickled bytes do not extend the deadline. */
  private startReceiveTimer(): void {
    if (this.receiveTimer !== undefined || this.frames.bufferedBytes === 0) return;
    if (this.socket.isPaused() || this.dead) return;
    const ms = this.opts.requestReceiveMs;
    this.receiveTimer = this.opts.broker.clock.setTimer(ms, () =>
      this.fail(`request not received whole within ${ms} ms`),
    );
  }

  private stopReceiveTimer(): void {
    this.opts.broker.clock.clearTimer(this.receiveTimer);
    this.receiveTimer = undefined;
  }

  private pause(): void {
    this.socket.pause();
    this.stopReceiveTimer();
  }

  private onFrame(frame: Buffer, bytes: number): void {
    if (this.dead) return;
    if (frame.length >= 8 && frame.readInt16BE(0) === ApiKey.ApiVersions) {
      // A newer client's ApiVersions header may be unreadable to us; answer v0 from the fixed prefix.
      const h = this.opts.handlers.get(ApiKey.ApiVersions);
      const version = frame.readInt16BE(2);
      if (h !== undefined && (version < h.minVersion || version > h.maxVersion)) {
        const header = {
          apiKey: ApiKey.ApiVersions,
          apiVersion: 0,
          correlationId: frame.readInt32BE(4),
          clientId: null,
        };
        this.answerApiVersionsFallback(h, header, bytes);
        return;
      }
    }
    const r = new KafkaReader(frame);
    let header: RequestHeader;
    try {
      header = decodeRequestHeader(r);
    } catch (e) {
      this.fail(`malformed request header: ${(e as Error).message}`);
      return;
    }
    const handler = this.opts.handlers.get(header.apiKey);
    if (handler === undefined) {
      this.answerRaw(header, KafkaErrorCode.UNSUPPORTED_VERSION, bytes);
      return;
    }
    const { apiVersion } = header;
    if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      this.fail(`${handler.api.name} v${apiVersion} is not supported`);
      return;
    }
    let req: unknown;
    try {
      req = handler.api.decodeRequest(apiVersion, r);
    } catch (e) {
      this.fail(`malformed ${handler.api.name} v${apiVersion} request: ${(e as Error).message}`);
      return;
    }
    this.dispatch(handler, header, req, bytes);
  }

  private dispatch(handler: KafkaHandler, header: RequestHeader, req: unknown, bytes: number): void {
    const slot: Slot = { out: undefined, bytes, after: [] };
    this.slots.push(slot);
    if (
      this.slots.length >= LIMITS.kafkaInflightRequestsMax ||
      this.socket.writableLength > LIMITS.kafkaUnreadResponseBytesMax
    ) {
      this.pause();
    }
    const throttleMs = header.apiKey === ApiKey.Produce ? this.opts.produceThrottleMs() : 0;
    if (throttleMs > 0) this.mute(throttleMs);
    const ctx: RequestContext = {
      broker: this.opts.broker,
      header,
      version: header.apiVersion,
      // An IPv4 client of a dual-stack listener sees "::ffff:a.b.c.d"; advertise the plain IPv4 form.
      host: (this.socket.localAddress ?? "127.0.0.1").replace(/^::ffff:(?=\d+\.)/, ""),
      port: this.socket.localPort ?? 0,
      remoteHost: this.socket.remoteAddress ?? "",
      produceThrottleMs: throttleMs,
      afterResponse: (fn) => slot.after?.push(fn),
      onClose: (listener) => {
        if (this.isClosed) {
          listener();
          return () => {};
        }
        this.closeListeners.add(listener);
        return () => this.closeListeners.delete(listener);
      },
    };
    handler.handle(req, ctx).then(
      (res) => {
        slot.out = res === null ? null : encodeResponse(handler, header, res);
        this.flush();
      },
      (e: unknown) => {
        this.opts.broker.logger.error({ err: e, api: handler.api.name }, "kafka handler failed");
        this.fail(`${handler.api.name} failed`);
      },
    );
  }

  private answerRaw(header: RequestHeader, errorCode: number, bytes: number): void {
    const w = new KafkaWriter(16);
    w.int32(6);
    w.int32(header.correlationId);
    w.int16(errorCode);
    this.slots.push({ out: [w.finish()], bytes });
    this.flush();
  }

  private answerApiVersionsFallback(handler: KafkaHandler, header: RequestHeader, bytes: number): void {
    const body = this.opts.apiVersionsFallback();
    const out = encodeResponse(handler, { ...header, apiVersion: 0 }, body);
    this.slots.push({ out, bytes });
    this.flush();
  }

  /** Writes every finished response at the head of the queue, keeping request order. */
  private flush(): void {
    if (this.dead) return;
    let head = this.slots[0];
    if (head === undefined || head.out === undefined) return;
    const parts: Buffer[] = [];
    const after: (() => void)[] = [];
    while (head !== undefined && head.out !== undefined) {
      this.slots.shift();
      this.opts.budget.release(this, head.bytes);
      if (head.out !== null) parts.push(...head.out);
      if (head.after !== undefined) after.push(...head.after);
      head = this.slots[0];
    }
    this.write(parts, after);
    this.resumeIfRoom();
  }

  /**
   * Writes responses in one corked batch; the memory alarm sees their bytes until the kernel has them, and
   * `after` runs then (the responses' buffers may be reused).
   */
  private write(parts: Buffer[], after: (() => void)[]): void {
    const { memory } = this.opts;
    let bytes = 0;
    for (const p of parts) bytes += p.length;
    if (parts.length === 0) {
      for (const fn of after) fn();
      return;
    }
    memory?.add("kafkaResponses", bytes);
    // the last write's callback runs once all are written, or with an error once the socket is destroyed
    // (libuv has let go of every buffer by then)
    const done = () => {
      memory?.add("kafkaResponses", -bytes);
      for (const fn of after) fn();
    };
    this.socket.cork();
    for (let i = 0; i < parts.length; i++) {
      this.socket.write(parts[i] as Buffer, i === parts.length - 1 ? done : undefined);
    }
    this.socket.uncork();
  }

  /** As a Kafka broker mutes a throttled client's channel: nothing more is read from it for `ms` (the
   *  response says so in throttle_time_ms; this holds back clients that ignore it, and acks=0 producers). */
  private mute(ms: number): void {
    const { clock } = this.opts.broker;
    clock.clearTimer(this.muteTimer);
    this.pause();
    this.muteTimer = clock.setTimer(ms, () => {
      this.muteTimer = undefined;
      this.resumeIfRoom();
    });
  }

  /** Reading resumes once few requests are pending, the client has taken most of what we wrote and the
   *  frame being received has its bytes reserved. */
  private resumeIfRoom(): void {
    if (!this.socket.isPaused() || this.dead || this.waitingBudget || this.muteTimer !== undefined) return;
    if (this.slots.length >= LIMITS.kafkaInflightRequestsMax) return;
    if (this.socket.writableLength > LIMITS.kafkaUnreadResponseBytesMax) {
      if (!this.awaitingDrain) {
        this.awaitingDrain = true;
        this.socket.once("drain", () => {
          this.awaitingDrain = false;
          this.resumeIfRoom();
        });
      }
      return;
    }
    this.socket.resume();
    this.startReceiveTimer();
  }

  private fail(reason: string): void {
    if (this.dead) return;
    this.opts.broker.logger.warn({ remote: this.socket.remoteAddress, reason }, "closing kafka connection");
    this.kill();
  }

  private kill(): void {
    this.dead = true;
    this.slots.length = 0;
    this.socket.destroy();
  }
}

function encodeResponse(handler: KafkaHandler, header: RequestHeader, res: unknown): Buffer[] {
  const w = new KafkaWriter(256);
  w.int32(0);
  writeResponseHeader(w, responseHeaderVersion(header.apiKey, header.apiVersion) ?? 0, {
    correlationId: header.correlationId,
  });
  handler.api.writeResponse(w, header.apiVersion, res);
  const parts = w.finishParts();
  (parts[0] as Buffer).writeInt32BE(w.length - 4, 0);
  return parts;
}
