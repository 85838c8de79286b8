// One consumer group: members and assignments, committed offset and lag per partition, a live lag chart,
// and resetting offsets. Invariant: a reset is sent as asked and the broker's refusal (409 while the group
// has members) is shown with its reason.

import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { Chart } from "../components/chart.tsx";
import { ActionResult, ErrorText, Field, Section, Select, Stat, useAction } from "../components/ui.tsx";
import { num } from "../format.ts";
import { type Series, useHistory } from "../history.ts";
import { samples } from "../live.ts";
import { usePoll } from "../poll.ts";
import { href } from "../router.ts";
import type { GroupDetail } from "../types.ts";

export function Group(props: { id: string }) {
  const path = `groups/${encodeURIComponent(props.id)}`;
  const polled = usePoll(async () => ({ at: Date.now(), g: await api<GroupDetail>("GET", path) }), 1000);
  const g = polled.data?.g;
  const lag = g === undefined ? Number.NaN : g.offsets.reduce((sum, o) => sum + o.lag, 0);
  const polledLag = useHistory(polled.data?.at, [lag]);
  const history = liveLag(props.id) ?? polledLag;
  const action = useAction();
  const remove = () =>
    action.run(async () => {
      if (!confirm(`Delete group ${props.id} and its committed offsets?`)) return;
      await api("DELETE", path);
      location.hash = href("groups");
    });
  return (
    <>
      <h1>
        <a href={href("groups")}>Consumer groups</a> / {props.id}
      </h1>
      <ErrorText error={polled.error} />
      <div class="stats">
        <Stat id="state" label="state" value={g?.state ?? "–"} />
        <Stat id="members" label="members" value={num(g?.members.length)} />
        <Stat id="lag" label="total lag" value={num(lag)} />
        <Stat id="protocol" label="protocol" value={g?.protocol || g?.protocol_type || "–"} />
      </div>
      <div class="toolbar">
        <button type="button" class="danger" onClick={remove} disabled={action.busy}>
          Delete group
        </button>
        <ActionResult action={action} />
      </div>
      <div class="charts">
        <Chart
          id="group-lag"
          title="Lag"
          format={num}
          at={history.at}
          series={[{ label: "lag", color: "#dc2626" }]}
          values={history.values}
        />
      </div>
      <Offsets g={g} />
      <Members g={g} />
      <ResetOffsets
        group={props.id}
        topics={[...new Set((g?.offsets ?? []).map((o) => o.topic))]}
        onDone={polled.reload}
      />
    </>
  );
}

/** The group's lag over the live feed's samples (minutes of history), when the group is among the feed's
 *  most lagging; null otherwise. */
function liveLag(id: string): Series | null {
  const list = samples.value;
  const rows = list.map((s) => s.groups.find((g) => g.group_id === id));
  if (!rows.some((r) => r !== undefined)) return null;
  return { at: list.map((s) => s.ts), values: [rows.map((r) => r?.lag ?? Number.NaN)] };
}

function Offsets(props: { g: GroupDetail | undefined }) {
  const g = props.g;
  return (
    <Section title="Offsets">
      <table class="grid" data-table="offsets">
        <thead>
          <tr>
            <th>topic</th>
            <th class="n">partition</th>
            <th class="n">committed</th>
            <th class="n">end</th>
            <th class="n">lag</th>
            <th>metadata</th>
          </tr>
        </thead>
        <tbody>
          {(g?.offsets ?? []).map((o) => (
            <tr key={`${o.topic}:${o.partition}`} data-partition={`${o.topic}:${o.partition}`}>
              <td>
                <a href={href("topics", o.topic)}>{o.topic}</a>
              </td>
              <td class="n">{o.partition}</td>
              <td class="n">{num(o.committed_offset)}</td>
              <td class="n">{num(o.end_offset)}</td>
              <td class="n" data-col="lag">
                {num(o.lag)}
              </td>
              <td>{o.metadata ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

function Members(props: { g: GroupDetail | undefined }) {
  const list = props.g?.members ?? [];
  return (
    <Section title={`Members (${list.length})`}>
      {list.length === 0 ? (
        <p class="empty">no members: offsets can be reset</p>
      ) : (
        <table class="grid">
          <thead>
            <tr>
              <th>member</th>
              <th>client</th>
              <th>host</th>
              <th>assignment</th>
            </tr>
          </thead>
          <tbody>
            {list.map((m) => (
              <tr key={m.member_id}>
                <td class="mono">{m.member_id}</td>
                <td>{m.client_id ?? "–"}</td>
                <td>{m.client_host ?? "–"}</td>
                <td>{(m.assignment ?? []).map((a) => `${a.topic}[${a.partition}]`).join(" ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

const RESET_TO = ["earliest", "latest", "timestamp", "offset"] as const;
type ResetTo = (typeof RESET_TO)[number];

function ResetOffsets(props: { group: string; topics: string[]; onDone: () => void }) {
  const [topic, setTopic] = useState("");
  const [to, setTo] = useState<ResetTo>("earliest");
  const [value, setValue] = useState("");
  const [partitions, setPartitions] = useState("");
  const action = useAction();
  const chosen = topic !== "" ? topic : (props.topics[0] ?? "");
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      if (chosen === "") throw new Error("name the topic whose offsets to reset");
      const body: Record<string, unknown> = { topic: chosen, to };
      if (to === "offset") body.offset = Number(value);
      if (to === "timestamp") body.timestamp = new Date(value).getTime();
      if (partitions.trim() !== "")
        body.partitions = partitions
          .split(/[\s,]+/)
          .filter(Boolean)
          .map(Number);
      await api("POST", `groups/${encodeURIComponent(props.group)}/reset-offsets`, body);
      props.onDone();
      return `offsets of ${chosen} reset to ${to === "earliest" || to === "latest" ? to : `${to} ${value}`}`;
    });
  };
  return (
    <Section title="Reset offsets">
      <form class="form" onSubmit={submit} data-form="reset-offsets">
        <label class="field">
          <span>topic</span>
          <input
            name="topic"
            list="group-topics"
            value={chosen}
            onInput={(e) => setTopic(e.currentTarget.value)}
          />
          <datalist id="group-topics">
            {props.topics.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
        </label>
        <Select
          label="to"
          name="to"
          value={to}
          options={RESET_TO.map((t) => [t, t === "timestamp" ? "time" : t])}
          onChange={(v) => setTo(v as ResetTo)}
        />
        {to === "offset" && (
          <Field label="offset" name="offset" type="number" value={value} onInput={setValue} />
        )}
        {to === "timestamp" && (
          <Field label="time" name="time" type="datetime-local" value={value} onInput={setValue} />
        )}
        <Field label="partitions (empty: all)" name="partitions" value={partitions} onInput={setPartitions} />
        <button type="submit" disabled={action.busy}>
          Reset
        </button>
      </form>
      <ActionResult action={action} />
    </Section>
  );
}
