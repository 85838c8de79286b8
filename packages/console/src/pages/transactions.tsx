// Kafka transactions: every transactional id, the state of its transaction and how long an open one has
// run against its timeout. Invariant: states and durations are the coordinator's (polled), never guessed here.

import { api } from "../api.ts";
import { ErrorText, Section } from "../components/ui.tsx";
import { num } from "../format.ts";
import { usePoll } from "../poll.ts";
import { href } from "../router.ts";
import type { TxnInfo } from "../types.ts";

/** An open transaction past half its timeout is flagged: the coordinator aborts it at the timeout. */
const nearTimeout = (t: TxnInfo) => t.duration_ms !== null && t.duration_ms > t.timeout_ms / 2;

export function Transactions() {
  const txns = usePoll(() => api<TxnInfo[]>("GET", "transactions"), 2000);
  const list = txns.data ?? [];
  const open = list.filter((t) => t.duration_ms !== null).length;
  return (
    <>
      <h1>Transactions</h1>
      <Section title={`Transactional ids (${list.length}, ${open} open)`}>
        <ErrorText error={txns.error} />
        <table class="grid" data-table="transactions">
          <thead>
            <tr>
              <th>transactional id</th>
              <th>state</th>
              <th class="n">producer id</th>
              <th class="n">epoch</th>
              <th class="n">partitions</th>
              <th class="n">open for (ms)</th>
              <th class="n">timeout (ms)</th>
            </tr>
          </thead>
          <tbody>
            {list.map((t) => (
              <tr key={t.transactional_id} data-txn={t.transactional_id}>
                <td>
                  <a href={href("transactions", t.transactional_id)}>{t.transactional_id}</a>
                </td>
                <td data-col="state">{t.state}</td>
                <td class="n">{t.producer_id}</td>
                <td class="n">{t.producer_epoch}</td>
                <td class="n">{num(t.partitions)}</td>
                <td class={nearTimeout(t) ? "n warn" : "n"} data-col="duration">
                  {t.duration_ms === null ? "–" : num(t.duration_ms)}
                </td>
                <td class="n">{num(t.timeout_ms)}</td>
              </tr>
            ))}
            {list.length === 0 && txns.data !== undefined && (
              <tr>
                <td colSpan={7} class="empty">
                  no transactional ids yet: they appear once a Kafka producer with a transactional.id starts
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </Section>
    </>
  );
}
