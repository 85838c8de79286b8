// The idempotent consumer (inbox): a message id a group has already processed is skipped and acked.
// With a transactional store the inbox row and the handler's own writes commit together (the handler
// gets the transaction as `ctx.tx`). Invariant: for each (topic/group, message id) a store lets at most
// one handler run commit; a run that failed leaves no mark, so the next delivery runs again.
//
// Guarantees: memory store — duplicates suppressed within one process while it lives. SQLite — across
// restarts; with `transactional` (default) the mark commits with the handler's writes through `tx`.
// PostgreSQL — the same across processes and machines: exactly-once effects for writes made through
// `tx`, even when the consumer is killed mid-handler (its transaction rolls back; the redelivery runs
// it again) or after commit but before ack (the redelivery finds the mark and is skipped).

import type { Middleware } from "./context.ts";

export interface InboxStore {
  /**
   * Runs `fn` unless `consumer` already processed `id`, and records it as processed — in the same
   * transaction as `fn`'s writes through `tx` where the store is transactional. Resolves false for a
   * duplicate (fn not run). A concurrent call for the same key waits for the first one's outcome.
   */
  once(consumer: string, id: string, fn: (tx: unknown) => Promise<void>): Promise<boolean>;
  /** Forgets marks older than `beforeMs` (epoch ms); returns how many. */
  purge(beforeMs: number): Promise<number>;
  close(): Promise<void>;
}

export interface InboxHooks {
  readonly onDuplicate?: () => void;
}

/** Skips messages the group has processed; the key is `topic/group` and the CloudEvents id. */
export function inboxMiddleware(store: InboxStore, hooks: InboxHooks = {}): Middleware {
  return async (ctx, next) => {
    const ran = await store.once(
      `${ctx.topic}/${ctx.group}`,
      ctx.delivery.message.attributes.id,
      async (tx) => {
        ctx.tx = tx;
        await next();
      },
    );
    if (!ran) {
      ctx.outcome = "duplicate";
      hooks.onDuplicate?.();
    }
  };
}
