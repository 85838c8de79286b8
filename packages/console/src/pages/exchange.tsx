// One exchange: its bindings (both directions), binding and unbinding, publishing, deleting.
// Invariant: `amq.default` in the route is the default exchange (""), which cannot be bound or deleted.

import { useState } from "preact/hooks";
import { api, vh } from "../api.ts";
import { Publish } from "../components/publish.tsx";
import { ActionResult, ErrorText, Field, parseArgs, Section, useAction } from "../components/ui.tsx";
import { usePoll } from "../poll.ts";
import { href } from "../router.ts";
import type { BindingInfo, ExchangeInfo } from "../types.ts";
import { DEFAULT_EXCHANGE } from "./exchanges.tsx";

export function Exchange(props: { name: string }) {
  const isDefault = props.name === "amq.default" || props.name === "";
  const path = `exchanges/${vh(isDefault ? "amq.default" : props.name)}`;
  const x = usePoll(() => api<ExchangeInfo>("GET", path), 5000);
  const bindings = usePoll(async () => {
    const [source, destination] = await Promise.all([
      api<BindingInfo[]>("GET", `${path}/bindings/source`),
      api<BindingInfo[]>("GET", `${path}/bindings/destination`),
    ]);
    return { source, destination };
  }, 5000);
  const action = useAction();
  const remove = () =>
    action.run(async () => {
      if (!confirm(`Delete exchange ${props.name}?`)) return;
      await api("DELETE", path);
      location.hash = href("exchanges");
    });
  return (
    <>
      <h1>
        <a href={href("exchanges")}>Exchanges</a> / {isDefault ? DEFAULT_EXCHANGE : props.name}
      </h1>
      <ErrorText error={x.error} />
      <p class="meta">
        type <b>{x.data?.type ?? "–"}</b>, {x.data?.durable === true ? "durable" : "transient"}
        {x.data?.internal === true ? ", internal" : ""}
        {x.data !== undefined && Object.keys(x.data.arguments).length > 0
          ? `, arguments ${JSON.stringify(x.data.arguments)}`
          : ""}
      </p>
      {!isDefault && (
        <div class="toolbar">
          <button type="button" class="danger" onClick={remove} disabled={action.busy}>
            Delete exchange
          </button>
          <ActionResult action={action} />
        </div>
      )}
      <Section title="Bindings from this exchange">
        <ErrorText error={bindings.error} />
        <BindingTable list={bindings.data?.source ?? []} side="destination" onChange={bindings.reload} />
        {!isDefault && <Bind source={props.name} onDone={bindings.reload} />}
      </Section>
      {!isDefault && (
        <Section title="Bindings to this exchange">
          <BindingTable list={bindings.data?.destination ?? []} side="source" onChange={bindings.reload} />
        </Section>
      )}
      <Section title="Publish a message">
        <Publish exchange={isDefault ? "" : props.name} />
      </Section>
    </>
  );
}

function BindingTable(props: { list: BindingInfo[]; side: "source" | "destination"; onChange: () => void }) {
  const action = useAction();
  const unbind = (b: BindingInfo) =>
    action.run(async () => {
      const kind = b.destination_type === "queue" ? "q" : "e";
      await api(
        "DELETE",
        `bindings/%2F/e/${enc(b.source)}/${kind}/${enc(b.destination)}/${enc(b.properties_key)}`,
      );
      props.onChange();
    });
  if (props.list.length === 0) return <p class="empty">none</p>;
  return (
    <>
      <table class="grid" data-table={`bindings-${props.side}`}>
        <thead>
          <tr>
            <th>{props.side === "destination" ? "to" : "from"}</th>
            <th>routing key</th>
            <th>arguments</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {props.list.map((b) => (
            <tr key={`${b.source}>${b.destination_type}:${b.destination}/${b.properties_key}`}>
              <td>
                {props.side === "destination" ? (
                  target(b)
                ) : (
                  <a href={href("exchanges", b.source)}>{b.source}</a>
                )}
              </td>
              <td>{b.routing_key}</td>
              <td>{Object.keys(b.arguments).length > 0 ? JSON.stringify(b.arguments) : ""}</td>
              <td>
                {b.source !== "" && (
                  <button type="button" class="small danger" onClick={() => unbind(b)} disabled={action.busy}>
                    Unbind
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ActionResult action={action} />
    </>
  );
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function target(b: BindingInfo) {
  const page = b.destination_type === "queue" ? "queues" : "exchanges";
  return (
    <>
      {b.destination_type} <a href={href(page, b.destination)}>{b.destination}</a>
    </>
  );
}

function Bind(props: { source: string; onDone: () => void }) {
  const [kind, setKind] = useState<"q" | "e">("q");
  const [destination, setDestination] = useState("");
  const [key, setKey] = useState("");
  const [args, setArgs] = useState("");
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      if (destination === "") throw new Error("name the queue or exchange to bind");
      const body = { routing_key: key, arguments: parseArgs(args, "arguments") };
      await api("POST", `bindings/%2F/e/${enc(props.source)}/${kind}/${enc(destination)}`, body);
      props.onDone();
      return "bound";
    });
  };
  return (
    <form class="form" onSubmit={submit} data-form="bind">
      <label class="field">
        <span>to</span>
        <select value={kind} onChange={(e) => setKind(e.currentTarget.value === "e" ? "e" : "q")}>
          <option value="q">queue</option>
          <option value="e">exchange</option>
        </select>
      </label>
      <Field label="name" name="destination" value={destination} onInput={setDestination} />
      <Field label="routing key" name="routing_key" value={key} onInput={setKey} />
      <Field label="arguments (JSON)" name="arguments" value={args} onInput={setArgs} />
      <button type="submit" disabled={action.busy}>
        Bind
      </button>
      <ActionResult action={action} />
    </form>
  );
}
