// Groups the messages enqueued to one queue in one event-loop turn into one log append (one batch).
// Invariant: offsets are predicted exactly — the log assigns dense offsets in call order and only this
// batcher appends to its log — so a message is deliverable at once while its append is in flight. A full
// disk rewinds the log to its last acknowledged batch: the batches it rejected (and any after them) are held
// back and appended again, in order, before anything else once the log accepts appends, so every predicted
// offset still ends up holding its message.
// Records are built only when the batch is written: built at enqueue they outlived a young-generation
// collection or two and were promoted, which cost more than building them.

import type { RecordInput } from "@spindle/protocol";
import { assert, isBrokerError, LIMITS } from "../lib/index.ts";
import type { Log } from "../log/index.ts";
import { type Message, messageBytes, settledRecord, toRecord } from "./message.ts";

interface Batch {
  readonly messages: Message[];
  readonly timestamps: number[];
  bytes: number;
  readonly firstOffset: number;
  readonly stored: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
}

export class AppendBatcher {
  private batch: Batch | null = null;
  /** offset the next record will get */
  end: number;
  /** settles when everything added so far is stored (never rejects) */
  lastStored: Promise<void> = Promise.resolve();
  /** batches waiting for the disk, by offset: the first was rejected for a full disk (its publishers heard
   *  so), later ones keep their places behind it */
  private heldBack: Batch[] = [];
  /** while batches are held back: why new messages are refused (rather than piling up behind them) */
  private refusal: Promise<never> | null = null;

  /** `onStored` runs after each batch is stored (once per batch, not per record); a record whose offset
   *  `isSettled` by the time its batch is written is written without its contents. */
  constructor(
    private readonly log: Log,
    private readonly onStored: () => void,
    private readonly isSettled: (offset: number) => boolean,
    private readonly batchBytesMax = LIMITS.queueAppendBatchBytesMax,
  ) {
    this.end = log.endOffset;
  }

  /** Adds a message at offset `end` (then `end` moves on); resolves when it is stored. Every message of
   *  a batch shares one promise, so callers can tell batches apart by it. */
  add(message: Message, timestampMs: number): Promise<void> {
    const b = this.batch ?? this.open();
    b.messages.push(message);
    b.timestamps.push(timestampMs);
    b.bytes += messageBytes(message);
    this.end++;
    if (b.bytes >= this.batchBytesMax) this.flush();
    return b.stored;
  }

  private open(): Batch {
    let resolve: () => void = () => undefined;
    let reject: (e: unknown) => void = () => undefined;
    const stored = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    stored.catch(() => undefined);
    const b: Batch = {
      messages: [],
      timestamps: [],
      bytes: 0,
      firstOffset: this.end,
      stored,
      resolve,
      reject,
    };
    this.batch = b;
    this.lastStored = stored.catch(() => undefined);
    setImmediate(() => {
      if (this.batch === b) this.flush();
    });
    return b;
  }

  /** A rejected promise while the log cannot take messages (a full disk), else null. */
  get refused(): Promise<never> | null {
    return this.refusal;
  }

  flush(): void {
    const b = this.batch;
    if (b === null) return;
    this.batch = null;
    if (this.heldBack.length > 0) this.holdBack(b);
    else this.write(b);
  }

  /** Gives up on held-back batches (the queue closes): their messages were never stored. */
  abandon(reason: unknown): void {
    for (const b of this.heldBack.splice(0)) b.reject(reason);
  }

  private write(b: Batch): void {
    const records = new Array<RecordInput>(b.messages.length);
    for (let i = 0; i < records.length; i++) {
      const ts = b.timestamps[i] as number;
      const settled = this.isSettled(b.firstOffset + i);
      records[i] = settled ? settledRecord(ts) : toRecord(b.messages[i] as Message, ts);
    }
    this.log.appendRecords(records).then(
      (r) => {
        assert(
          r.baseOffset === b.firstOffset,
          `queue log offset ${r.baseOffset}, predicted ${b.firstOffset}`,
        );
        b.resolve();
        this.onStored();
      },
      (e: unknown) => {
        b.reject(e);
        if (isBrokerError(e, "DISK_FULL")) this.holdBack(b, e);
      },
    );
  }

  /** Keeps `b` (in offset order) until the log accepts appends again; the first one starts the wait. */
  private holdBack(b: Batch, why?: unknown): void {
    let i = this.heldBack.length;
    while (i > 0 && (this.heldBack[i - 1] as Batch).firstOffset > b.firstOffset) i--;
    this.heldBack.splice(i, 0, b);
    if (this.refusal !== null) return;
    this.refusal = Promise.reject(why);
    this.refusal.catch(() => undefined);
    this.log.writable().then(
      () => {
        this.refusal = null;
        for (const held of this.heldBack.splice(0)) this.write(held);
      },
      (e: unknown) => {
        // the log failed for good or closed: nothing held back will be stored
        this.refusal = Promise.reject(e);
        this.refusal.catch(() => undefined);
        this.abandon(e);
      },
    );
  }
}
