// Everything written to a connection in one event-loop turn, encoded straight into one buffer and sent with
// one socket write: no buffer per frame and no concatenation on the way out.
// Invariant: bytes reach the socket in the order they were written here, and not before every promise
// given with them (`content(…, after)`: a delivery's record in its queue) has settled.

import type { Socket } from "node:net";
import * as amqp from "@spindle/protocol/amqp";
import { type Clock, LIMITS, type MemoryAccount } from "../../lib/index.ts";
import type { Message } from "../../queues/index.ts";

export class Outbox {
  private readonly w = new amqp.WireWriter(LIMITS.amqpOutboxBufferBytes);
  private scheduled = false;
  /** when bytes were last handed to the socket: heartbeats are sent only after a quiet half period */
  lastWriteMs: number;
  private ended = false;
  /** what the bytes written since the last flush wait for */
  private waits: Promise<void>[] = [];
  /** the send of the last output held for its waits: later output queues behind it */
  private tail: Promise<void> | undefined;
  /** bytes taken from the buffer and held, not yet handed to the socket */
  private heldBytes = 0;

  /** `onWritable` runs when buffered output fell below the high-water mark (after a flush or 'drain'). */
  constructor(
    private readonly socket: Socket,
    private readonly onWritable: () => void,
    private readonly clock: Clock,
    /** where the memory alarm sees output the kernel has not taken yet */
    private readonly memory?: MemoryAccount,
  ) {
    this.lastWriteMs = clock.nowMs();
    socket.on("drain", () => this.onWritable());
  }

  /** Already encoded bytes (heartbeats, refusals). */
  write(b: Buffer): void {
    if (this.opened()) this.w.bytes(b);
  }

  method(channel: number, method: amqp.AmqpMethod): void {
    if (this.opened()) amqp.writeFrame(this.w, { type: "method", channel, method });
  }

  /** deliver, get-ok or return with the message's stored property bytes and body; with `after`, this and
   *  every later output leaves once it settled. */
  content(
    channel: number,
    method: amqp.AmqpMethod,
    m: Message,
    frameMax: number,
    after?: Promise<void>,
  ): void {
    if (!this.opened()) return;
    if (after !== undefined && this.waits.at(-1) !== after) this.waits.push(after);
    amqp.writeContentFrames(this.w, channel, method, amqp.BASIC_CLASS_ID, m.properties, m.body, frameMax);
    if (this.w.pending >= LIMITS.amqpTurnOutputBytesMax) this.flush();
  }

  /** Whether writing may go on; schedules the flush at the end of this turn. */
  private opened(): boolean {
    if (this.ended) return false;
    if (!this.scheduled) {
      this.scheduled = true;
      // the first output of a turn: once the socket has written everything handed to it, no earlier bytes
      // of the buffer are in use, and the turn writes over them (a fresh 64 KiB buffer per buffer-full
      // cost page faults as the new memory was first touched)
      if (this.w.pending === 0 && this.tail === undefined && this.socket.writableLength === 0)
        this.w.rewind();
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
    return true;
  }

  get backlogged(): boolean {
    return this.socket.writableLength + this.w.pending + this.heldBytes > LIMITS.amqpSocketBacklogBytesMax;
  }

  flush(): void {
    if (this.w.pending === 0 || this.socket.destroyed) return;
    const bytes = this.w.take();
    if (this.waits.length === 0 && this.tail === undefined) {
      this.send(bytes, this.backlogged);
      return;
    }
    // held: the buffer's bytes stay ours until sent, so rewind() waits until no output is held
    const waits = [this.tail, ...this.waits];
    this.waits = [];
    this.heldBytes += bytes.length;
    const sent: Promise<void> = Promise.all(waits)
      .catch(() => undefined)
      .then(() => {
        const wasBacklogged = this.backlogged;
        this.heldBytes -= bytes.length;
        if (this.tail === sent) this.tail = undefined;
        if (!this.socket.destroyed) this.send(bytes, wasBacklogged);
      });
    this.tail = sent;
  }

  private send(bytes: Buffer, wasBacklogged: boolean): void {
    this.lastWriteMs = this.clock.nowMs();
    const { memory } = this;
    if (memory === undefined) this.socket.write(bytes);
    else {
      const n = bytes.length;
      memory.add("amqpOutboxes", n);
      // called once written, or with an error when the socket is destroyed first
      this.socket.write(bytes, () => memory.add("amqpOutboxes", -n));
    }
    // the socket may take everything at once and never emit 'drain': consumers paused on us must resume
    if (wasBacklogged && !this.backlogged) this.onWritable();
  }

  /** Flushes what is queued, then half-closes the socket. */
  end(): void {
    if (this.ended) return;
    this.flush();
    this.ended = true;
    const close = () => {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1000).unref();
    };
    if (this.tail === undefined) close();
    else void this.tail.then(close);
  }
}
