// Peek (read a queue's messages without consuming them) and move/redrive (ready messages to another
// queue, with streamed progress). Invariant: peek never changes the queue; move shows every progress
// line the broker sends and its final count or error.

import { useEffect, useRef, useState } from "preact/hooks";
import { api, apiFetch, ndjson, vh } from "../api.ts";
import { ActionResult, Field, Section, useAction } from "../components/ui.tsx";
import { bytes, num } from "../format.ts";
import { usePoll } from "../poll.ts";
import type { PeekMessage, QueueInfo } from "../types.ts";

const PAYLOAD_SHOWN = 400;

/** `changes`: bumped when the page changed the queue's messages; a shown page is then read again. */
export function Peek(props: { queue: string; changes: number }) {
  const [filter, setFilter] = useState("");
  const [limit, setLimit] = useState("50");
  const [page, setPage] = useState<{ messages: PeekMessage[]; next: number | null } | null>(null);
  const action = useAction();
  const load = (from: number | null) =>
    action.run(async () => {
      const q = new URLSearchParams({ limit: limit || "50" });
      if (from !== null) q.set("from", String(from));
      if (filter !== "") q.set("filter", filter);
      setPage(await api("GET", `queues/${vh(props.queue)}/messages?${q}`));
    });
  const shown = useRef(false);
  shown.current = page !== null;
  useEffect(() => {
    if (shown.current) void load(null);
  }, [props.changes]);
  return (
    <Section title="Peek at messages">
      <form
        class="form"
        data-form="peek"
        onSubmit={(e) => {
          e.preventDefault();
          void load(null);
        }}
      >
        <Field label="filter (payload or header text)" name="filter" value={filter} onInput={setFilter} />
        <Field label="limit" name="limit" type="number" value={limit} onInput={setLimit} />
        <button type="submit" disabled={action.busy}>
          Peek
        </button>
        {page?.next !== null && page?.next !== undefined && (
          <button type="button" onClick={() => load(page.next)} disabled={action.busy}>
            Next page
          </button>
        )}
      </form>
      <ActionResult action={action} />
      {page !== null && <Messages list={page.messages} />}
    </Section>
  );
}

function Messages(props: { list: PeekMessage[] }) {
  if (props.list.length === 0) return <p class="empty">no messages</p>;
  return (
    <table class="grid messages" data-table="peek">
      <thead>
        <tr>
          <th class="n">position</th>
          <th>state</th>
          <th>routing key</th>
          <th>headers</th>
          <th>payload</th>
        </tr>
      </thead>
      <tbody>
        {props.list.map((m) => (
          <tr key={m.position}>
            <td class="n">{m.position}</td>
            <td>
              {m.state}
              {m.redelivered ? " (redelivered)" : ""}
            </td>
            <td>
              {m.exchange === "" ? "" : `${m.exchange} → `}
              {m.routing_key}
            </td>
            <td class="mono">{headerText(m.properties.headers)}</td>
            <td class="mono payload">
              {m.payload_encoding === "base64" ? <em>base64 </em> : null}
              {m.payload.length > PAYLOAD_SHOWN ? `${m.payload.slice(0, PAYLOAD_SHOWN)}…` : m.payload}
              <small> ({bytes(m.payload_bytes)})</small>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Headers in one line; `x-death` summarised as reason@queue×count, which is what a redrive needs. */
function headerText(headers: Record<string, unknown> | undefined): string {
  if (headers === undefined) return "";
  return Object.entries(headers)
    .map(([k, v]) => {
      if (k === "x-death" && Array.isArray(v)) {
        const deaths = v.map((d: { reason?: string; queue?: string; count?: number }) => {
          return `${d.reason ?? "?"}@${d.queue ?? "?"}×${d.count ?? 1}`;
        });
        return `x-death: ${deaths.join(", ")}`;
      }
      return `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`;
    })
    .join("; ");
}

interface Progress {
  moved: number;
  total?: number;
  done?: boolean;
  error?: string;
  reason?: string;
}

export function Move(props: { queue: string; onDone: () => void }) {
  const [destination, setDestination] = useState("");
  const [count, setCount] = useState("");
  const [filter, setFilter] = useState("");
  const [progress, setProgress] = useState<Progress | null>(null);
  const queues = usePoll(() => api<QueueInfo[]>("GET", "queues/%2F"), 10_000);
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      if (destination === "") throw new Error("choose the destination queue");
      const body: Record<string, unknown> = { destination };
      if (count !== "") body.count = Number(count);
      if (filter !== "") body.filter = filter;
      setProgress({ moved: 0 });
      const res = await apiFetch(`queues/${vh(props.queue)}/move`, {
        method: "POST",
        body: JSON.stringify(body),
        headers: { accept: "application/x-ndjson" },
      });
      let last: Progress = { moved: 0 };
      for await (const line of ndjson<Progress>(res)) {
        if (line.error !== undefined)
          throw new Error(`${line.reason ?? line.error} (moved ${last.moved} before)`);
        last = line;
        setProgress(line);
      }
      props.onDone();
      return `moved ${num(last.moved)} message${last.moved === 1 ? "" : "s"} to ${destination}`;
    });
  };
  const others = (queues.data ?? []).filter((q) => q.name !== props.queue);
  return (
    <Section title="Move messages (redrive)">
      <form class="form" onSubmit={submit} data-form="move">
        <label class="field">
          <span>to queue</span>
          <input
            name="destination"
            list="move-destinations"
            value={destination}
            onInput={(e) => setDestination(e.currentTarget.value)}
          />
          <datalist id="move-destinations">
            {others.map((q) => (
              <option key={q.name} value={q.name} />
            ))}
          </datalist>
        </label>
        <Field label="how many (empty: all)" name="count" type="number" value={count} onInput={setCount} />
        <Field label="only matching" name="filter" value={filter} onInput={setFilter} />
        <button type="submit" disabled={action.busy}>
          Move
        </button>
      </form>
      {progress !== null && (
        <div class="progress" data-progress={progress.done === true ? "done" : "running"}>
          <progress value={progress.moved} max={progress.total ?? Math.max(progress.moved, 1)} />
          <span>
            {num(progress.moved)}
            {progress.total !== undefined ? ` / ${num(progress.total)}` : ""} moved
          </span>
        </div>
      )}
      <ActionResult action={action} />
    </Section>
  );
}
