// One transactional id: its producer and epoch, and its open transaction — the partitions it holds back
// (last stable offset below the end), its groups and the offsets it will commit. Invariant: read-only; a
// transaction ends by its producer or the coordinator's timeout, not from here.

import { api } from "../api.ts";
import { ErrorText, Section, Stat } from "../components/ui.tsx";
import { num, time } from "../format.ts";
import { usePoll } from "../poll.ts";
import { href } from "../router.ts";
import type { TxnDetail } from "../types.ts";

export function Transaction(props: { id: string }) {
  const path = `transactions/${encodeURIComponent(props.id)}`;
  const polled = usePoll(() => api<TxnDetail>("GET", path), 1000);
  const t = polled.data;
  return (
    <>
      <h1>
        <a href={href("transactions")}>Transactions</a> / {props.id}
      </h1>
      <ErrorText error={polled.error} />
      <div class="stats">
        <Stat id="state" label="state" value={t?.state ?? "–"} />
        <Stat
          id="producer"
          label="producer id / epoch"
          value={t ? `${t.producer_id} / ${t.producer_epoch}` : "–"}
        />
        <Stat id="duration" label="open for (ms)" value={t?.duration_ms == null ? "–" : num(t.duration_ms)} />
        <Stat id="timeout" label="timeout (ms)" value={num(t?.timeout_ms)} />
        <Stat
          id="started"
          label="started"
          value={t?.started_ms == null ? "–" : time(t.started_ms).slice(11, 19)}
        />
      </div>
      <Section title={`Partitions (${t?.partitions.length ?? 0})`}>
        <table class="grid" data-table="txn-partitions">
          <thead>
            <tr>
              <th>topic</th>
              <th class="n">partition</th>
              <th class="n">first offset</th>
              <th class="n">last stable offset</th>
              <th class="n">end offset</th>
            </tr>
          </thead>
          <tbody>
            {(t?.partitions ?? []).map((p) => (
              <tr key={`${p.topic}:${p.partition}`} data-partition={`${p.topic}:${p.partition}`}>
                <td>
                  <a href={href("topics", p.topic)}>{p.topic}</a>
                </td>
                <td class="n">{p.partition}</td>
                <td class="n">{num(p.first_offset)}</td>
                <td class="n" data-col="lso">
                  {num(p.last_stable_offset)}
                </td>
                <td class="n" data-col="end">
                  {num(p.end_offset)}
                </td>
              </tr>
            ))}
            {t !== undefined && t.partitions.length === 0 && (
              <tr>
                <td colSpan={5} class="empty">
                  no transaction open
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </Section>
      <Section title="Offsets sent with the transaction">
        {(t?.pending_offsets ?? []).length === 0 ? (
          <p class="empty">none{t && t.groups.length > 0 ? ` (groups: ${t.groups.join(", ")})` : ""}</p>
        ) : (
          <table class="grid" data-table="txn-offsets">
            <thead>
              <tr>
                <th>group</th>
                <th>topic</th>
                <th class="n">partition</th>
                <th class="n">offset</th>
              </tr>
            </thead>
            <tbody>
              {(t?.pending_offsets ?? []).map((o) => (
                <tr key={`${o.group_id}:${o.topic}:${o.partition}`}>
                  <td>
                    <a href={href("groups", o.group_id)}>{o.group_id}</a>
                  </td>
                  <td>{o.topic}</td>
                  <td class="n">{o.partition}</td>
                  <td class="n">{num(o.offset)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
    </>
  );
}
