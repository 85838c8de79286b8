// Queues: every queue with its depth, rates and consumers, and a form to declare one.
// Invariant: the table is reloaded after a declare, so a new queue shows at once.

import { useState } from "preact/hooks";
import { api, vh } from "../api.ts";
import { ActionResult, ErrorText, Field, parseArgs, Section, useAction } from "../components/ui.tsx";
import { detailRate, num, rate } from "../format.ts";
import { usePoll } from "../poll.ts";
import { href } from "../router.ts";
import type { QueueInfo } from "../types.ts";

export function Queues() {
  const queues = usePoll(() => api<QueueInfo[]>("GET", "queues/%2F"), 2000);
  const list = queues.data ?? [];
  return (
    <>
      <h1>Queues</h1>
      <Section title={`Queues (${list.length})`}>
        <ErrorText error={queues.error} />
        <table class="grid" data-table="queues">
          <thead>
            <tr>
              <th>name</th>
              <th>features</th>
              <th>state</th>
              <th class="n">ready</th>
              <th class="n">unacked</th>
              <th class="n">total</th>
              <th class="n">consumers</th>
              <th class="n">publish</th>
              <th class="n">deliver</th>
              <th class="n">ack</th>
            </tr>
          </thead>
          <tbody>
            {list.map((q) => (
              <tr key={q.name} data-queue={q.name}>
                <td>
                  <a href={href("queues", q.name)}>{q.name}</a>
                </td>
                <td>{features(q)}</td>
                <td>{q.state ?? "–"}</td>
                <td class="n">{num(q.messages_ready)}</td>
                <td class="n">{num(q.messages_unacknowledged)}</td>
                <td class="n" data-col="messages">
                  {num(q.messages)}
                </td>
                <td class="n">{num(q.consumers)}</td>
                <td class="n">{rate(detailRate(q.message_stats, "publish"))}</td>
                <td class="n">{rate(detailRate(q.message_stats, "deliver_get"))}</td>
                <td class="n">{rate(detailRate(q.message_stats, "ack"))}</td>
              </tr>
            ))}
            {list.length === 0 && queues.data !== undefined && (
              <tr>
                <td colSpan={10} class="empty">
                  no queues yet: declare one below
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </Section>
      <DeclareQueue onDone={queues.reload} />
    </>
  );
}

/** D durable, AD auto-delete, X exclusive, then the x-arguments, as RabbitMQ's console abbreviates. */
export function features(q: QueueInfo): string {
  const f: string[] = [];
  if (q.durable) f.push("D");
  if (q.auto_delete) f.push("AD");
  if (q.exclusive === true) f.push("X");
  for (const k of Object.keys(q.arguments ?? {})) f.push(k.replace(/^x-/, ""));
  return f.join(" ");
}

function DeclareQueue(props: { onDone: () => void }) {
  const [name, setName] = useState("");
  const [durable, setDurable] = useState(true);
  const [args, setArgs] = useState("");
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      if (name.trim() === "") throw new Error("give the queue a name");
      const body = { durable, auto_delete: false, arguments: parseArgs(args, "arguments") };
      await api("PUT", `queues/${vh(name)}`, body);
      props.onDone();
      return `queue ${name} declared`;
    });
  };
  return (
    <Section title="Declare a queue">
      <form class="form" onSubmit={submit} data-form="declare-queue">
        <Field label="name" name="name" value={name} onInput={setName} />
        <label class="check">
          <input type="checkbox" checked={durable} onChange={(e) => setDurable(e.currentTarget.checked)} />
          durable
        </label>
        <Field
          label="arguments (JSON)"
          name="arguments"
          value={args}
          onInput={setArgs}
          wide
          placeholder='{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dlq"}'
        />
        <button type="submit" disabled={action.busy}>
          Declare
        </button>
      </form>
      <ActionResult action={action} />
    </Section>
  );
}
