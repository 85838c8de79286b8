// Kafka transactions in /metrics (Spindle's names: kafka_exporter has none): transactional ids by state,
// transactions ended since start, and the aborted ranges kept for read_committed fetches.
// Invariant: every state is sampled (0 included), so a rule on Ongoing sees 0 rather than no series.

import { TXN_STATES } from "../../streams/index.ts";
import type { HttpContext } from "./context.ts";
import { type Exposition, labelSet } from "./exposition.ts";

export function writeTransactionMetrics(out: Exposition, ctx: HttpContext): void {
  const { transactions } = ctx.streams;
  const byState = new Map<string, number>(TXN_STATES.map((s) => [s, 0]));
  for (const t of transactions.list()) byState.set(t.state, (byState.get(t.state) ?? 0) + 1);
  out.family(
    "spindle_kafka_transactions",
    "gauge",
    "Transactional ids by the state of their transaction (Kafka's names; Ongoing is open)",
  );
  for (const [state, n] of byState) out.sample("spindle_kafka_transactions", labelSet({ state }), n);
  const c = transactions.counts;
  out.single(
    "spindle_kafka_transactions_committed_total",
    "counter",
    "Transactions committed (markers written) since the broker started",
    c.committed,
  );
  out.single(
    "spindle_kafka_transactions_aborted_total",
    "counter",
    "Transactions aborted (markers written) since the broker started, timed out ones included",
    c.aborted,
  );
  out.single(
    "spindle_kafka_transactions_timed_out_total",
    "counter",
    "Transactions the coordinator aborted because they ran past their transaction.timeout.ms",
    c.timedOut,
  );
  out.single(
    "spindle_kafka_aborted_transaction_ranges",
    "gauge",
    "Aborted transactions kept for read_committed fetches, until their records are deleted",
    transactions.abortedRanges(),
  );
}
