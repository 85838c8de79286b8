// Coalesces the frames written in one event-loop turn into one socket write.
// Invariant: bytes reach the socket in the order they were written here.

import type { Socket } from "node:net";

/** above this many buffered bytes, consumers on the connection pause until 'drain' */
export const WRITE_HIGH_WATER = 1024 * 1024;

export class Outbox {
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private scheduled = false;
  lastWriteMs = Date.now();
  private ended = false;

  /** `onWritable` runs when buffered output fell below the high-water mark (after a flush or 'drain'). */
  constructor(
    private readonly socket: Socket,
    private readonly onWritable: () => void,
  ) {
    socket.on("drain", () => this.onWritable());
  }

  write(b: Buffer): void {
    if (this.ended) return;
    this.parts.push(b);
    this.partsBytes += b.length;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  get backlogged(): boolean {
    return this.socket.writableLength + this.partsBytes > WRITE_HIGH_WATER;
  }

  flush(): void {
    this.scheduled = false;
    if (this.parts.length === 0 || this.socket.destroyed) return;
    const wasBacklogged = this.backlogged;
    const parts = this.parts;
    this.parts = [];
    this.partsBytes = 0;
    this.lastWriteMs = Date.now();
    this.socket.write(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts));
    // the socket may take everything at once and never emit 'drain': consumers paused on us must resume
    if (wasBacklogged && !this.backlogged) this.onWritable();
  }

  /** Flushes what is queued, then half-closes the socket. */
  end(): void {
    if (this.ended) return;
    this.flush();
    this.ended = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }
}
