// Streams over HTTP, Kafka transactions: every transactional id with its state, and one id's open
// transaction — the partitions it holds back (their last stable offset), its groups and pending offsets.
// Invariant: read-only and the coordinator's own view (states are Kafka's names); ending or aborting a
// transaction stays with its producer and the coordinator's timeout.

import { Hono } from "hono";
import { BrokerError } from "../../lib/index.ts";
import { TXN_STATES, type TxnRecord, type TxnState } from "../../streams/index.ts";
import type { HttpContext } from "./context.ts";
import { badRequest } from "./params.ts";

const RUNNING: readonly TxnState[] = ["Ongoing", "PrepareCommit", "PrepareAbort"];

function summary(t: TxnRecord, nowMs: number) {
  const running = RUNNING.includes(t.state) && t.startMs >= 0;
  return {
    transactional_id: t.transactionalId,
    state: t.state,
    producer_id: t.producerId,
    producer_epoch: t.epoch,
    timeout_ms: t.timeoutMs,
    /** when the open transaction began (ms since the epoch), null when none is open */
    started_ms: running ? t.startMs : null,
    duration_ms: running ? Math.max(0, nowMs - t.startMs) : null,
    partitions: t.partitions.length,
    groups: t.groups.length,
  };
}

function detail(ctx: HttpContext, t: TxnRecord) {
  const { topics, transactions } = ctx.streams;
  return {
    ...summary(t, ctx.clock.nowMs()),
    updated_ms: t.updatedMs,
    partitions: t.partitions.map((tp) => {
      const end = topics.byId(tp.topicId)?.partitions[tp.partition]?.endOffset ?? null;
      return {
        topic: tp.topic,
        partition: tp.partition,
        /** a lower bound of the transaction's first offset there: the end offset when it joined */
        first_offset: tp.firstOffset,
        last_stable_offset:
          end === null ? null : transactions.lastStableOffset(tp.topicId, tp.partition, end),
        end_offset: end,
      };
    }),
    groups: t.groups,
    pending_offsets: t.offsets.map((o) => ({
      group_id: o.groupId,
      topic: o.topic,
      partition: o.partition,
      offset: o.offset,
    })),
  };
}

/** `?state=Ongoing,PrepareCommit` keeps those states; none: all. */
function stateFilter(given: string | undefined): Set<string> | null {
  if (given === undefined || given === "") return null;
  const states = given.split(",");
  const unknown = states.filter((s) => !TXN_STATES.includes(s as TxnState));
  if (unknown.length > 0)
    throw badRequest(`unknown state ${unknown.join(", ")}; states are ${TXN_STATES.join(", ")}`);
  return new Set(states);
}

export function transactionRoutes(ctx: HttpContext): Hono {
  const { transactions } = ctx.streams;
  return new Hono()
    .get("/transactions", (c) => {
      const states = stateFilter(c.req.query("state"));
      const now = ctx.clock.nowMs();
      return c.json(
        transactions
          .list()
          .filter((t) => states === null || states.has(t.state))
          .sort((a, b) =>
            a.transactionalId < b.transactionalId ? -1 : a.transactionalId > b.transactionalId ? 1 : 0,
          )
          .map((t) => summary(t, now)),
      );
    })
    .get("/transactions/:id", (c) => {
      const id = c.req.param("id");
      const t = transactions.describe(id);
      if (t === undefined) throw new BrokerError("NOT_FOUND", `transactional id ${id} does not exist`);
      return c.json(detail(ctx, t));
    });
}
