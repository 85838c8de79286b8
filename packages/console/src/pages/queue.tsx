// One queue: depth and rate charts, consumers, bindings, and the actions on it (publish, peek, move,
// purge, delete). Invariant: destructive actions ask first, and the page reloads what they changed.

import { useState } from "preact/hooks";
import { api, vh } from "../api.ts";
import { Chart } from "../components/chart.tsx";
import { Publish } from "../components/publish.tsx";
import { ActionResult, ErrorText, Section, Stat, useAction } from "../components/ui.tsx";
import { bytes, compact, detailRate, num, rate } from "../format.ts";
import { type Series, useHistory } from "../history.ts";
import { samples } from "../live.ts";
import { usePoll } from "../poll.ts";
import { href } from "../router.ts";
import type { BindingInfo, QueueInfo } from "../types.ts";
import { Move, Peek } from "./queue-messages.tsx";
import { features } from "./queues.tsx";

const RATES: readonly [key: string, label: string, color: string][] = [
  ["publish", "publish", "#2563eb"],
  ["deliver_get", "deliver", "#16a34a"],
  ["ack", "ack", "#65a30d"],
  ["redeliver", "redeliver", "#d97706"],
];

export function Queue(props: { name: string }) {
  const path = `queues/${vh(props.name)}`;
  const polled = usePoll(async () => ({ at: Date.now(), q: await api<QueueInfo>("GET", path) }), 1000);
  const q = polled.data?.q;
  const history = useHistory(polled.data?.at, [
    q?.messages_ready ?? Number.NaN,
    q?.messages_unacknowledged ?? Number.NaN,
    ...RATES.map(([k]) => detailRate(q?.message_stats, k) ?? Number.NaN),
  ]);
  const depth = liveDepth(props.name) ?? { at: history.at, values: history.values.slice(0, 2) };
  // bumped by every action that changes the messages, so a shown peek is read again
  const [changes, setChanges] = useState(0);
  const changed = () => {
    setChanges((n) => n + 1);
    polled.reload();
  };
  const action = useAction();
  const purge = () =>
    action.run(async () => {
      if (!confirm(`Purge every ready message of ${props.name}?`)) return;
      await api("DELETE", `${path}/contents`);
      changed();
      return "purged";
    });
  const remove = () =>
    action.run(async () => {
      if (!confirm(`Delete queue ${props.name} and its messages?`)) return;
      await api("DELETE", path);
      location.hash = href("queues");
    });
  return (
    <>
      <h1>
        <a href={href("queues")}>Queues</a> / {props.name}
      </h1>
      <ErrorText error={polled.error} />
      <div class="stats">
        <Stat id="ready" label="ready" value={num(q?.messages_ready)} />
        <Stat id="unacked" label="unacked" value={num(q?.messages_unacknowledged)} />
        <Stat id="messages" label="total" value={num(q?.messages)} />
        <Stat id="bytes" label="bytes" value={bytes(q?.message_bytes)} />
        <Stat id="consumers" label="consumers" value={num(q?.consumers)} />
        <Stat id="features" label="features" value={q === undefined ? "–" : features(q) || "–"} />
      </div>
      <div class="toolbar">
        <button type="button" class="danger" onClick={purge} disabled={action.busy}>
          Purge
        </button>
        <button type="button" class="danger" onClick={remove} disabled={action.busy}>
          Delete queue
        </button>
        <ActionResult action={action} />
      </div>
      <QueueCharts depth={depth} rates={{ at: history.at, values: history.values.slice(2) }} />
      <Section title="Publish a message">
        <Publish exchange="" routingKey={props.name} onDone={changed} />
      </Section>
      <Peek queue={props.name} changes={changes} />
      <Move queue={props.name} onDone={changed} />
      <Consumers q={q} />
      <Bindings queue={props.name} />
    </>
  );
}

function QueueCharts(props: { depth: Series; rates: Series }) {
  return (
    <div class="charts">
      <Chart
        id="queue-depth"
        title="Depth"
        format={num}
        at={props.depth.at}
        series={[
          { label: "ready", color: "#2563eb" },
          { label: "unacked", color: "#d97706" },
        ]}
        values={props.depth.values}
      />
      <Chart
        id="queue-rates"
        title="Rates"
        format={rate}
        axis={(v) => `${compact(v)}/s`}
        at={props.rates.at}
        series={RATES.map(([, label, color]) => ({ label, color }))}
        values={props.rates.values}
      />
    </div>
  );
}

/** The queue's depth over the live feed's samples (minutes, not only since the page opened), when the
 *  queue is among the feed's deepest; null otherwise. */
function liveDepth(name: string): Series | null {
  const list = samples.value;
  const rows = list.map((s) => s.queues.find((x) => x.name === name));
  if (!rows.some((r) => r !== undefined)) return null;
  return {
    at: list.map((s) => s.ts),
    values: [
      rows.map((r) => r?.messages_ready ?? Number.NaN),
      rows.map((r) => r?.messages_unacknowledged ?? Number.NaN),
    ],
  };
}

function Consumers(props: { q: QueueInfo | undefined }) {
  const list = props.q?.consumer_details ?? [];
  return (
    <Section title={`Consumers (${list.length})`}>
      {list.length === 0 ? (
        <p class="empty">no consumers</p>
      ) : (
        <table class="grid">
          <thead>
            <tr>
              <th>tag</th>
              <th>channel</th>
              <th>ack</th>
              <th class="n">prefetch</th>
              <th>exclusive</th>
              <th>active</th>
            </tr>
          </thead>
          <tbody>
            {list.map((c) => (
              <tr key={c.consumer_tag}>
                <td>{c.consumer_tag}</td>
                <td>{c.channel_details?.name ?? "–"}</td>
                <td>{c.ack_required === false ? "auto" : "manual"}</td>
                <td class="n">{num(c.prefetch_count)}</td>
                <td>{c.exclusive === true ? "yes" : "no"}</td>
                <td>{c.active === false ? "no" : "yes"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

function Bindings(props: { queue: string }) {
  const bindings = usePoll(() => api<BindingInfo[]>("GET", `queues/${vh(props.queue)}/bindings`), 5000);
  return (
    <Section title="Bindings">
      <ErrorText error={bindings.error} />
      <table class="grid">
        <thead>
          <tr>
            <th>from exchange</th>
            <th>routing key</th>
            <th>arguments</th>
          </tr>
        </thead>
        <tbody>
          {(bindings.data ?? []).map((b) => (
            <tr key={`${b.source}/${b.properties_key}`}>
              <td>
                {b.source === "" ? (
                  "(default exchange)"
                ) : (
                  <a href={href("exchanges", b.source)}>{b.source}</a>
                )}
              </td>
              <td>{b.routing_key}</td>
              <td>{Object.keys(b.arguments).length > 0 ? JSON.stringify(b.arguments) : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}
