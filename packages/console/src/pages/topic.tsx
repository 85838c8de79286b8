// One topic: its partitions (start/end offsets) and a record browser by offset or by time.
// Invariant: "next page" continues from the broker's `next_offset`, so no record is skipped or repeated.

import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { ActionResult, ErrorText, Field, Section, Select, useAction } from "../components/ui.tsx";
import { num, time } from "../format.ts";
import { usePoll } from "../poll.ts";
import { href } from "../router.ts";
import type { RecordInfo, TopicDetail } from "../types.ts";

export function Topic(props: { name: string }) {
  const path = `topics/${encodeURIComponent(props.name)}`;
  const topic = usePoll(() => api<TopicDetail>("GET", path), 3000);
  const action = useAction();
  const remove = () =>
    action.run(async () => {
      if (!confirm(`Delete topic ${props.name} and all its records?`)) return;
      await api("DELETE", path);
      location.hash = href("topics");
    });
  const partitions = topic.data?.partitions ?? [];
  return (
    <>
      <h1>
        <a href={href("topics")}>Topics</a> / {props.name}
      </h1>
      <ErrorText error={topic.error} />
      <p class="meta mono">
        {Object.entries(topic.data?.configs ?? {})
          .map(([k, v]) => `${k}=${v}`)
          .join("  ")}
      </p>
      <div class="toolbar">
        <button type="button" class="danger" onClick={remove} disabled={action.busy}>
          Delete topic
        </button>
        <ActionResult action={action} />
      </div>
      <Section title={`Partitions (${partitions.length})`}>
        <table class="grid" data-table="partitions">
          <thead>
            <tr>
              <th class="n">partition</th>
              <th class="n">start offset</th>
              <th class="n">end offset</th>
              <th class="n">records</th>
            </tr>
          </thead>
          <tbody>
            {partitions.map((p) => (
              <tr key={p.partition}>
                <td class="n">{p.partition}</td>
                <td class="n">{num(p.start_offset)}</td>
                <td class="n">{num(p.end_offset)}</td>
                <td class="n">{num(p.messages ?? p.end_offset - p.start_offset)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <Records topic={props.name} partitions={partitions.map((p) => p.partition)} />
    </>
  );
}

function Records(props: { topic: string; partitions: number[] }) {
  const [partition, setPartition] = useState("0");
  const [by, setBy] = useState<"offset" | "timestamp">("offset");
  // an offset, or a datetime-local value when `by` is "timestamp"
  const [start, setStart] = useState("0");
  const [limit, setLimit] = useState("20");
  const [page, setPage] = useState<{ records: RecordInfo[]; next_offset: number } | null>(null);
  const action = useAction();
  const load = (from: { offset: number } | null) =>
    action.run(async () => {
      const q = recordsQuery(
        partition,
        limit,
        from !== null ? String(from.offset) : start,
        from === null && by === "timestamp",
      );
      setPage(await api("GET", `topics/${encodeURIComponent(props.topic)}/records?${q}`));
    });
  return (
    <Section title="Records">
      <form
        class="form"
        data-form="records"
        onSubmit={(e) => {
          e.preventDefault();
          void load(null);
        }}
      >
        <Select
          label="partition"
          name="partition"
          value={partition}
          options={(props.partitions.length > 0 ? props.partitions : [0]).map((p) => [String(p), String(p)])}
          onChange={setPartition}
        />
        <Select
          label="from"
          name="by"
          value={by}
          options={[
            ["offset", "offset"],
            ["timestamp", "time"],
          ]}
          onChange={(v) => {
            setBy(v === "timestamp" ? "timestamp" : "offset");
            setStart(v === "timestamp" ? "" : "0");
          }}
        />
        {by === "offset" ? (
          <Field label="offset" name="offset" type="number" value={start} onInput={setStart} />
        ) : (
          <Field label="time" name="time" type="datetime-local" value={start} onInput={setStart} />
        )}
        <Field label="limit" name="limit" type="number" value={limit} onInput={setLimit} />
        <button type="submit" disabled={action.busy}>
          Show
        </button>
        {page !== null && page.records.length > 0 && (
          <button type="button" onClick={() => load({ offset: page.next_offset })} disabled={action.busy}>
            Next page
          </button>
        )}
      </form>
      <ActionResult action={action} />
      {page !== null && <RecordTable list={page.records} />}
    </Section>
  );
}

/** `start`: an offset, or a datetime-local value when `byTime`. */
function recordsQuery(partition: string, limit: string, start: string, byTime: boolean): URLSearchParams {
  const q = new URLSearchParams({ partition, limit: limit || "20" });
  if (!byTime) {
    q.set("offset", start || "0");
    return q;
  }
  const ms = new Date(start).getTime();
  if (!Number.isFinite(ms)) throw new Error("choose a date and time to start from");
  q.set("timestamp", String(ms));
  return q;
}

function RecordTable(props: { list: RecordInfo[] }) {
  if (props.list.length === 0) return <p class="empty">no records from there</p>;
  return (
    <table class="grid messages" data-table="records">
      <thead>
        <tr>
          <th class="n">offset</th>
          <th>time</th>
          <th>key</th>
          <th>headers</th>
          <th>value</th>
        </tr>
      </thead>
      <tbody>
        {props.list.map((r) => (
          <tr key={`${r.partition}:${r.offset}`}>
            <td class="n">{r.offset}</td>
            <td class="nowrap">{time(r.timestamp)}</td>
            <td class="mono">{r.key ?? <em>null</em>}</td>
            <td class="mono">
              {r.headers_encoding === "base64" ? <em>base64 </em> : null}
              {Object.entries(r.headers ?? {})
                .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
                .join("; ")}
            </td>
            <td class="mono payload">
              {r.value_encoding === "base64" ? <em>base64 </em> : null}
              {r.value === null ? <em>null</em> : <pre>{r.value}</pre>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
