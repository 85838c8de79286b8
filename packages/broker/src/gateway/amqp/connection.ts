// One AMQP 0-9-1 connection: protocol header, start/tune/open, heartbeats, channel 0, close both ways.
// Invariant: after a connection.close is sent only close/close-ok are acted on; a hard error never
// touches other connections, and a soft error closes only its channel; a blocked publisher stops between
// messages, never inside a body (whose bytes would stay held until the alarm clears).

import type { Socket } from "node:net";
import * as amqp from "@spindle/protocol/amqp";
import {
  type Clock,
  isLoopback,
  LIMITS,
  type Logger,
  type MemoryAccount,
  type TimerHandle,
} from "../../lib/index.ts";
import type { Message, Vhost } from "../../queues/index.ts";
import { type BodyBudget, ConnectionBodies } from "./body-budget.ts";
import { Channel } from "./channel.ts";
import type { ChannelHost } from "./channel-context.ts";
import { connectionError, toReply } from "./error-map.ts";
import { clientCapability, credentials, HEARTBEAT_S, serverProperties } from "./handshake.ts";
import { Outbox } from "./outbox.ts";
import type { Blockable, PublishGate } from "./publish-gate.ts";
import { TurnBudget, UnstoredCredit } from "./read-pacing.ts";
import { plainTable } from "./tables.ts";

type State = "header" | "start-ok" | "tune-ok" | "open" | "running" | "closing" | "closed";

export interface ConnectionDeps {
  readonly vhost: Vhost;
  readonly logger: Logger;
  /** heartbeats run on it (and the outbox stamps its writes with it), so tests can run them on fake time */
  readonly clock: Clock;
  readonly version: string;
  /** largest message body accepted */
  readonly messageBytesMax: number;
  /** resource alarms: publishing connections are blocked while it has a reason */
  readonly publishGate?: PublishGate;
  /** where the memory alarm sees unstored bodies and output */
  readonly memory?: MemoryAccount;
  /** from connect until connection.open is answered (default LIMITS.amqpHandshakeMs) */
  readonly handshakeMs?: number;
}

let nextId = 1;
const BASIC_PUBLISH_ID = amqp.METHOD_INFO["basic.publish"].id;

export class Connection implements Blockable, ChannelHost {
  readonly id = `conn-${process.pid}-${nextId++}`;
  private state: State = "header";
  private headerBytes = Buffer.alloc(0);
  private readonly reader = new amqp.FrameReader();
  readonly out: Outbox;
  private readonly channels = new Map<number, Channel>();
  frameMax: number = LIMITS.amqpFrameBytesMax;
  private channelMax: number = LIMITS.amqpChannelsMax;
  private heartbeatS = 0;
  private lastReceived: number;
  private timer: TimerHandle | undefined;
  cancelNotify = false;
  /** resource alarms (see publish-gate.ts): set by the first basic.publish; reason while reading is paused */
  private publisher = false;
  private blockedReason: string | null = null;
  private blockedNotify = false;
  private readonly credit: UnstoredCredit;
  private readonly turn: TurnBudget;
  /** channels the server closed: content frames still in flight for them are dropped */
  private readonly strayContent = new Set<number>();
  /** bodies being assembled on this connection's channels */
  readonly bodies: ConnectionBodies;
  private readonly handshakeTimer: TimerHandle;
  /** the client's and the broker's ends (kept: a closed socket forgets them) */
  readonly peer: { readonly host: string; readonly port: number };
  readonly local: { readonly host: string; readonly port: number };
  /** RabbitMQ's connection name, "peer-host:port -> local-host:port" */
  readonly name: string;
  readonly connectedAtMs: number;
  /** set by connection.start-ok */
  user: string | null = null;
  mechanism: string | null = null;
  clientProperties: Readonly<Record<string, unknown>> = {};

  /** `refusal`: past the connection limit, the reason connection.open is answered with 530 */
  constructor(
    readonly socket: Socket,
    readonly deps: ConnectionDeps,
    bodies: BodyBudget,
    private readonly refusal: string | null = null,
  ) {
    this.lastReceived = deps.clock.nowMs();
    this.connectedAtMs = deps.clock.nowMs();
    this.peer = { host: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
    this.local = { host: socket.localAddress ?? "", port: socket.localPort ?? 0 };
    this.name = `${this.peer.host}:${this.peer.port} -> ${this.local.host}:${this.local.port}`;
    this.credit = new UnstoredCredit(deps.memory, () => this.updateReading());
    this.turn = new TurnBudget(() => this.updateReading());
    this.bodies = new ConnectionBodies(bodies, () => {
      if (this.blockedReason !== null) this.updateReading();
    });
    this.out = new Outbox(
      socket,
      () => {
        for (const c of this.channels.values()) c.resume();
      },
      deps.clock,
      deps.memory,
    );
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => this.onSocketClosed());
    deps.publishGate?.join(this);
    socket.once("close", () => deps.publishGate?.leave(this));
    // from connect, not from the last byte: a peer trickling a byte a second must not hold a socket open
    const handshakeMs = deps.handshakeMs ?? LIMITS.amqpHandshakeMs;
    this.handshakeTimer = deps.clock.setTimer(handshakeMs, () => {
      if (this.state === "running" || this.state === "closed") return;
      deps.logger.warn(
        { conn: this.id, state: this.state },
        `AMQP handshake not done within ${handshakeMs} ms, closing`,
      );
      socket.destroy();
    });
  }

  private onData(chunk: Buffer): void {
    this.lastReceived = this.deps.clock.nowMs();
    this.turn.count(chunk.length);
    if (this.state === "closed") return;
    if (this.state === "header") {
      const all = Buffer.concat([this.headerBytes, chunk]);
      const r = amqp.checkProtocolHeader(all);
      if (r.status === "incomplete") {
        this.headerBytes = all;
        return;
      }
      if (r.status === "mismatch") {
        this.state = "closed";
        this.socket.end(r.reply);
        return;
      }
      this.state = "start-ok";
      this.send(
        0,
        amqp.createMethod("connection.start", {
          serverProperties: serverProperties(this.deps.version),
          mechanisms: Buffer.from("PLAIN AMQPLAIN"),
          locales: Buffer.from("en_US"),
        }),
      );
      chunk = r.rest;
    }
    try {
      this.reader.add(chunk);
    } catch (err) {
      this.fail(err, 0, 0);
      return;
    }
    this.readFrames();
  }

  /** Handles the frames received; a blocked publisher's stop at the end of a message (as RabbitMQ's do),
   *  the rest waits in the reader until the alarm clears. */
  private readFrames(): void {
    if (this.state === "closed") return;
    try {
      while (!this.holdingFrames()) {
        const raw = this.reader.next();
        if (raw === undefined) return;
        this.onFrame(raw);
        if ((this.state as State) === "closed") return;
      }
    } catch (err) {
      this.fail(err, 0, 0);
    }
  }

  private holdingFrames(): boolean {
    return this.blockedReason !== null && this.bodies.inProgress === 0;
  }

  private onFrame(raw: amqp.RawFrame): void {
    if (raw.type === amqp.FRAME_HEARTBEAT) return;
    if (this.state === "closing") {
      if (raw.type !== amqp.FRAME_METHOD || raw.channel !== 0) return;
      const f = amqp.decodeFrame(raw);
      if (
        f.type === "method" &&
        (f.method.name === "connection.close-ok" || f.method.name === "connection.close")
      ) {
        if (f.method.name === "connection.close") this.send(0, amqp.createMethod("connection.close-ok", {}));
        this.terminate();
      }
      return;
    }
    if (raw.channel === 0) {
      const f = amqp.decodeFrame(raw);
      try {
        this.onChannelZero(f);
      } catch (err) {
        // the close names the method that failed (530 on connection.open is 10.40), as RabbitMQ's does
        if (f.type !== "method") throw err;
        const info = amqp.METHOD_INFO[f.method.name];
        this.fail(err, info.classId, info.methodId);
      }
      return;
    }
    if (this.state !== "running")
      throw connectionError(amqp.CHANNEL_ERROR, "channel used before connection.open");
    this.onChannelFrame(raw);
  }

  private onChannelFrame(raw: amqp.RawFrame): void {
    const ch = this.channels.get(raw.channel);
    if (ch === undefined) {
      if (raw.type !== amqp.FRAME_METHOD && this.strayContent.has(raw.channel)) return;
      const f = amqp.decodeFrame(raw);
      if (f.type === "method" && f.method.name === "channel.open") {
        this.openChannel(raw.channel);
        return;
      }
      if (f.type === "method" && f.method.name === "channel.close") {
        this.send(raw.channel, amqp.createMethod("channel.close-ok", {}));
        return;
      }
      throw connectionError(amqp.CHANNEL_ERROR, `expected 'channel.open' on channel ${raw.channel}`);
    }
    if (!this.publisher && raw.type === amqp.FRAME_METHOD && raw.payload.length >= 4) {
      if (raw.payload.readUInt32BE(0) === BASIC_PUBLISH_ID) this.firstPublish();
    }
    ch.onFrame(raw);
  }

  private openChannel(n: number): void {
    if (n > this.channelMax) {
      throw connectionError(amqp.NOT_ALLOWED, `channel number ${n} exceeds channel_max ${this.channelMax}`);
    }
    // a client may still be sending the body of a publish we refused on the old channel of this number
    this.channels.set(n, new Channel(n, this, this.strayContent.delete(n)));
    this.send(n, amqp.createMethod("channel.open-ok", {}));
  }

  /** channel.open on a number whose close-ok is still to come: the old channel is done. */
  reopenChannel(n: number): void {
    this.openChannel(n);
  }

  /** A channel finished closing (close-ok sent or received). */
  channelClosed(n: number, byServer: boolean): void {
    this.channels.delete(n);
    if (byServer) this.strayContent.add(n);
  }

  private onChannelZero(f: amqp.AmqpFrame): void {
    if (f.type !== "method")
      throw connectionError(amqp.UNEXPECTED_FRAME, `unexpected ${f.type} frame on channel 0`);
    const m = f.method;
    switch (this.state) {
      case "start-ok":
        if (m.name !== "connection.start-ok") break;
        this.onStartOk(m.args);
        return;
      case "tune-ok":
        if (m.name !== "connection.tune-ok") break;
        this.onTuneOk(m.args);
        return;
      case "open":
        if (m.name !== "connection.open") break;
        if (this.refusal !== null) {
          const { classId, methodId } = amqp.METHOD_INFO["connection.open"];
          this.fail(connectionError(amqp.NOT_ALLOWED, this.refusal), classId, methodId);
          return;
        }
        if (m.args.virtualHost !== "/") {
          throw connectionError(amqp.NOT_ALLOWED, `vhost ${m.args.virtualHost} not found`);
        }
        this.state = "running";
        this.deps.clock.clearTimer(this.handshakeTimer);
        this.send(0, amqp.createMethod("connection.open-ok", {}));
        return;
      case "running":
        if (m.name === "connection.close") {
          this.send(0, amqp.createMethod("connection.close-ok", {}));
          this.terminate();
          return;
        }
        if (m.name === "connection.close-ok") {
          this.terminate();
          return;
        }
        break;
    }
    throw connectionError(amqp.COMMAND_INVALID, `unexpected method ${m.name} in state ${this.state}`);
  }

  private onStartOk(a: amqp.MethodArgsByName["connection.start-ok"]): void {
    const cred = credentials(a.mechanism, a.response);
    const ok =
      cred !== null &&
      cred.user === "guest" &&
      cred.pass === "guest" &&
      isLoopback(this.socket.remoteAddress);
    if (!ok) {
      throw connectionError(
        amqp.ACCESS_REFUSED,
        `Login was refused using authentication mechanism ${a.mechanism}. For details see the broker logfile.`,
      );
    }
    this.user = cred?.user ?? null;
    this.mechanism = a.mechanism;
    this.clientProperties = plainTable(a.clientProperties);
    this.cancelNotify = clientCapability(a.clientProperties, "consumer_cancel_notify");
    this.blockedNotify = clientCapability(a.clientProperties, "connection.blocked");
    this.state = "tune-ok";
    this.send(
      0,
      amqp.createMethod("connection.tune", {
        channelMax: LIMITS.amqpChannelsMax,
        frameMax: LIMITS.amqpFrameBytesMax,
        heartbeat: HEARTBEAT_S,
      }),
    );
  }

  private onTuneOk(a: amqp.MethodArgsByName["connection.tune-ok"]): void {
    const frameMax = a.frameMax === 0 ? LIMITS.amqpFrameBytesMax : a.frameMax;
    if (frameMax < amqp.FRAME_MIN_SIZE || frameMax > LIMITS.amqpFrameBytesMax) {
      throw connectionError(
        amqp.NOT_ALLOWED,
        `frame_max ${a.frameMax} outside ${amqp.FRAME_MIN_SIZE}..${LIMITS.amqpFrameBytesMax}`,
      );
    }
    this.frameMax = frameMax;
    this.reader.frameMax = frameMax;
    this.channelMax =
      a.channelMax === 0 ? LIMITS.amqpChannelsMax : Math.min(a.channelMax, LIMITS.amqpChannelsMax);
    this.heartbeatS = a.heartbeat;
    this.state = "open";
    if (this.heartbeatS > 0) this.startHeartbeats();
  }

  private startHeartbeats(): void {
    const periodMs = (this.heartbeatS * 1000) / 2;
    const { clock } = this.deps;
    this.timer = clock.setRepeating(periodMs, () => {
      // a blocked connection's heartbeats wait unread in the socket, as RabbitMQ pauses its monitor
      if (this.blockedReason === null && clock.nowMs() - this.lastReceived > this.heartbeatS * 2000) {
        this.deps.logger.warn({ conn: this.id }, "missed heartbeats, closing connection");
        this.socket.destroy();
        return;
      }
      if (clock.nowMs() - this.out.lastWriteMs >= periodMs) this.out.write(amqp.HEARTBEAT_FRAME_BYTES);
    });
  }

  /** Credit flow (read-pacing.ts): a publisher faster than the disk is slowed by not reading its socket. */
  trackUnstored(bytes: number, stored: Promise<unknown>): void {
    this.credit.track(bytes, stored);
  }

  /** From its first basic.publish on a connection is a publisher; one that starts during an alarm is blocked now. */
  private firstPublish(): void {
    this.publisher = true;
    const reason = this.deps.publishGate?.reason ?? null;
    if (reason !== null) this.alarmChanged(reason);
  }

  /** PublishGate hook: a publisher stops being read while an alarm is on (consumers are served meanwhile);
   *  the client hears connection.blocked/unblocked if it announced the capability. */
  alarmChanged(reason: string | null): void {
    if (!this.publisher || (reason === null) === (this.blockedReason === null)) return;
    if (reason !== null && this.state !== "running") return;
    this.blockedReason = reason;
    if (this.blockedNotify && this.state === "running") {
      const m =
        reason === null
          ? amqp.createMethod("connection.unblocked", {})
          : amqp.createMethod("connection.blocked", { reason });
      this.send(0, m);
    }
    if (reason === null) this.lastReceived = this.deps.clock.nowMs();
    this.updateReading();
    // frames held in the reader when the alarm stopped this publisher
    if (reason === null) setImmediate(() => this.readFrames());
  }

  /** Reads the socket unless credit flow, a resource alarm (once no body is in progress) or a yielded
   *  turn says not to. */
  private updateReading(): void {
    if (this.state === "closed") return;
    if (this.credit.paused || this.holdingFrames() || this.turn.paused) this.socket.pause();
    else this.socket.resume();
  }

  get vhost(): Vhost {
    return this.deps.vhost;
  }

  get messageBytesMax(): number {
    return this.deps.messageBytesMax;
  }

  get memory(): MemoryAccount | undefined {
    return this.deps.memory;
  }

  get backlogged(): boolean {
    return this.out.backlogged;
  }

  sendContent(channel: number, method: amqp.AmqpMethod, m: Message, after?: Promise<void>): void {
    this.out.content(channel, method, m, this.frameMax, after);
  }

  send(channel: number, method: amqp.AmqpMethod): void {
    this.out.method(channel, method);
  }

  /** Closes the connection with an error: connection.close, then wait for close-ok. */
  fail(err: unknown, classId: number, methodId: number): void {
    if (this.state === "closing" || this.state === "closed") return;
    const r = toReply(err);
    if (r.code === amqp.INTERNAL_ERROR)
      this.deps.logger.error({ err, conn: this.id }, "AMQP connection error");
    if (this.state === "header" || (this.state === "start-ok" && r.code !== amqp.ACCESS_REFUSED)) {
      this.terminate();
      return;
    }
    this.send(
      0,
      amqp.createMethod("connection.close", { replyCode: r.code, replyText: r.text, classId, methodId }),
    );
    this.state = "closing";
    this.cleanupChannels();
    setTimeout(() => this.terminate(), 1000).unref();
  }

  /** The open channels, for the management API. */
  channelList(): readonly Channel[] {
    return [...this.channels.values()];
  }

  /** RabbitMQ's name for where the connection is: starting, tuning, opening, running, blocked, closing, closed */
  get stateName(): string {
    if (this.state === "running") return this.blockedReason === null ? "running" : "blocked";
    const named: Record<State, string> = {
      header: "starting",
      "start-ok": "starting",
      "tune-ok": "tuning",
      open: "opening",
      running: "running",
      closing: "closing",
      closed: "closed",
    };
    return named[this.state];
  }

  get tuned(): { readonly heartbeatS: number; readonly channelMax: number } {
    return { heartbeatS: this.heartbeatS, channelMax: this.channelMax };
  }

  /** An operator closes this connection (the management API): 320 CONNECTION_FORCED with their reason. */
  closeByOperator(reason: string): void {
    this.fail(connectionError(amqp.CONNECTION_FORCED, reason), 0, 0);
  }

  /** The broker closes this connection (shutdown): 320 CONNECTION_FORCED, then close-ok or a timeout. */
  forceClose(reason: string): void {
    const text = `broker forced connection closure with reason '${reason}'`;
    this.fail(connectionError(amqp.CONNECTION_FORCED, text), 0, 0);
  }

  private terminate(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.out.end();
    this.cleanupChannels();
  }

  private cleanupChannels(): void {
    for (const ch of this.channels.values()) ch.cleanup();
    this.channels.clear();
  }

  private onSocketClosed(): void {
    this.deps.clock.clearTimer(this.timer);
    this.deps.clock.clearTimer(this.handshakeTimer);
    this.state = "closed";
    this.cleanupChannels();
    this.deps.vhost
      .ownerGone(this.id)
      .catch((err: unknown) => this.deps.logger.error({ err }, "exclusive queue cleanup failed"));
  }
}
