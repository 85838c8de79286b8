// Overview: live message and byte rates, queued messages, memory, connections, alarms and disk, from the
// live feed; version, listeners and object counts from /api/overview.
// Invariant: charts draw only samples the live feed delivered (no invented zeros before the first one).

import { api } from "../api.ts";
import { Chart } from "../components/chart.tsx";
import { ErrorText, Section, Stat } from "../components/ui.tsx";
import { bytes, compact, num, rate } from "../format.ts";
import { type LiveStats, type RateKey, samples } from "../live.ts";
import { usePoll } from "../poll.ts";

interface OverviewInfo {
  product_version?: string;
  rabbitmq_version?: string;
  node?: string;
  object_totals?: Partial<Record<"connections" | "channels" | "exchanges" | "queues" | "consumers", number>>;
  listeners?: { protocol: string; ip_address: string; port: number }[];
}

const MESSAGE_SERIES: readonly [RateKey, string][] = [
  ["published", "#2563eb"],
  ["confirmed", "#0891b2"],
  ["delivered", "#16a34a"],
  ["acked", "#65a30d"],
  ["redelivered", "#d97706"],
  ["dead_lettered", "#dc2626"],
];
const BYTE_SERIES: readonly [RateKey, string][] = [
  ["produce_bytes", "#7c3aed"],
  ["fetch_bytes", "#db2777"],
];

function column(list: readonly LiveStats[], pick: (s: LiveStats) => number): number[] {
  return list.map((s) => {
    const v = pick(s);
    return typeof v === "number" ? v : Number.NaN;
  });
}

function sum(s: LiveStats, key: "messages_ready" | "messages_unacknowledged"): number {
  return s.queues.reduce((total, q) => total + q[key], 0);
}

export function Overview() {
  const info = usePoll(() => api<OverviewInfo>("GET", "overview"), 5000);
  const list = samples.value;
  const now = list[list.length - 1];
  const totals = info.data?.object_totals ?? {};
  const alarms = now?.alarms ?? [];
  return (
    <>
      <h1>Overview</h1>
      <div class="stats">
        <Stat id="connections" label="connections" value={num(now?.connections ?? totals.connections)} />
        <Stat id="channels" label="channels" value={num(now?.channels ?? totals.channels)} />
        <Stat id="queues" label="queues" value={num(totals.queues)} />
        <Stat id="consumers" label="consumers" value={num(totals.consumers)} />
        <Stat id="memory" label="memory (RSS)" value={bytes(now?.memory_bytes)} />
        <Stat id="disk" label="disk free" value={bytes(now?.disk_free_bytes)} />
        <Stat
          id="alarms"
          label="alarms"
          value={alarms.length === 0 ? "none" : alarms.join(", ")}
          warn={alarms.length > 0}
        />
      </div>
      <OverviewCharts list={list} />
      <NodeInfo info={info.data} error={info.error} />
    </>
  );
}

function OverviewCharts(props: { list: readonly LiveStats[] }) {
  const list = props.list;
  const at = list.map((s) => s.ts);
  return (
    <div class="charts">
      <Chart
        id="message-rates"
        title="Messages"
        format={rate}
        axis={(v) => `${compact(v)}/s`}
        at={at}
        series={MESSAGE_SERIES.map(([label, color]) => ({ label, color }))}
        values={MESSAGE_SERIES.map(([k]) => column(list, (s) => s.rates[k] ?? Number.NaN))}
      />
      <Chart
        id="queued"
        title="Queued messages"
        format={num}
        at={at}
        series={[
          { label: "ready", color: "#2563eb" },
          { label: "unacked", color: "#d97706" },
        ]}
        values={[
          column(list, (s) => sum(s, "messages_ready")),
          column(list, (s) => sum(s, "messages_unacknowledged")),
        ]}
      />
      <Chart
        id="stream-bytes"
        title="Stream traffic"
        format={(v) => `${bytes(v)}/s`}
        axis={(v) => `${bytes(v)}/s`}
        at={at}
        series={BYTE_SERIES.map(([label, color]) => ({ label, color }))}
        values={BYTE_SERIES.map(([k]) => column(list, (s) => s.rates[k] ?? Number.NaN))}
      />
      <Chart
        id="memory"
        title="Memory"
        format={bytes}
        axis={bytes}
        at={at}
        series={[
          { label: "rss", color: "#0f766e" },
          { label: "held for clients", color: "#d97706" },
        ]}
        values={[column(list, (s) => s.memory_bytes), column(list, (s) => s.memory_held_bytes ?? Number.NaN)]}
      />
    </div>
  );
}

function NodeInfo(props: { info: OverviewInfo | undefined; error: string | null }) {
  const info = props.info;
  return (
    <Section title="Node">
      <ErrorText error={props.error} />
      <table class="grid kv">
        <tbody>
          <tr>
            <th>version</th>
            <td>{info?.product_version ?? info?.rabbitmq_version ?? "–"}</td>
          </tr>
          <tr>
            <th>node</th>
            <td>{info?.node ?? "–"}</td>
          </tr>
          <tr>
            <th>exchanges</th>
            <td>{num(info?.object_totals?.exchanges)}</td>
          </tr>
          {(info?.listeners ?? []).map((l) => (
            <tr key={l.protocol}>
              <th>{l.protocol}</th>
              <td>
                {l.ip_address}:{l.port}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}
