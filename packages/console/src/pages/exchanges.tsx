// Exchanges: every exchange with its type, flags and publish rates, and a form to declare one.
// Invariant: the default exchange is listed under its console name, linked as `amq.default`.

import { useState } from "preact/hooks";
import { api, vh } from "../api.ts";
import { ActionResult, ErrorText, Field, parseArgs, Section, Select, useAction } from "../components/ui.tsx";
import { detailRate, rate } from "../format.ts";
import { usePoll } from "../poll.ts";
import { href } from "../router.ts";
import type { ExchangeInfo } from "../types.ts";

export const DEFAULT_EXCHANGE = "(AMQP default)";

export function Exchanges() {
  const exchanges = usePoll(() => api<ExchangeInfo[]>("GET", "exchanges/%2F"), 3000);
  const list = exchanges.data ?? [];
  return (
    <>
      <h1>Exchanges</h1>
      <Section title={`Exchanges (${list.length})`}>
        <ErrorText error={exchanges.error} />
        <table class="grid" data-table="exchanges">
          <thead>
            <tr>
              <th>name</th>
              <th>type</th>
              <th>features</th>
              <th class="n">in</th>
              <th class="n">out</th>
            </tr>
          </thead>
          <tbody>
            {list.map((x) => (
              <tr key={x.name} data-exchange={x.name}>
                <td>
                  <a href={href("exchanges", x.name === "" ? "amq.default" : x.name)}>
                    {x.name === "" ? DEFAULT_EXCHANGE : x.name}
                  </a>
                </td>
                <td>{x.type}</td>
                <td>
                  {[x.durable ? "D" : "", x.auto_delete ? "AD" : "", x.internal ? "I" : ""]
                    .concat(Object.keys(x.arguments ?? {}))
                    .filter((s) => s !== "")
                    .join(" ")}
                </td>
                <td class="n">{rate(detailRate(x.message_stats, "publish_in"))}</td>
                <td class="n">{rate(detailRate(x.message_stats, "publish_out"))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
      <DeclareExchange onDone={exchanges.reload} />
    </>
  );
}

const TYPES = ["direct", "fanout", "topic", "headers", "x-delayed-message"];

function DeclareExchange(props: { onDone: () => void }) {
  const [name, setName] = useState("");
  const [type, setType] = useState("direct");
  const [durable, setDurable] = useState(true);
  const [args, setArgs] = useState("");
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      if (name.trim() === "") throw new Error("give the exchange a name");
      const body = {
        type,
        durable,
        auto_delete: false,
        internal: false,
        arguments: parseArgs(args, "arguments"),
      };
      await api("PUT", `exchanges/${vh(name)}`, body);
      props.onDone();
      return `exchange ${name} declared`;
    });
  };
  return (
    <Section title="Declare an exchange">
      <form class="form" onSubmit={submit} data-form="declare-exchange">
        <Field label="name" name="name" value={name} onInput={setName} />
        <Select label="type" name="type" value={type} options={TYPES.map((t) => [t, t])} onChange={setType} />
        <label class="check">
          <input type="checkbox" checked={durable} onChange={(e) => setDurable(e.currentTarget.checked)} />
          durable
        </label>
        <Field label="arguments (JSON)" name="arguments" value={args} onInput={setArgs} wide />
        <button type="submit" disabled={action.busy}>
          Declare
        </button>
      </form>
      <ActionResult action={action} />
    </Section>
  );
}
