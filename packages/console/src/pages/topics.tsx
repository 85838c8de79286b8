// Topics: every stream topic with its partitions and record count, and a form to create one.
// Invariant: internal topics are listed apart from users' own (marked), never hidden.

import { useState } from "preact/hooks";
import { api } from "../api.ts";
import { ActionResult, ErrorText, Field, Section, useAction } from "../components/ui.tsx";
import { num } from "../format.ts";
import { usePoll } from "../poll.ts";
import { href } from "../router.ts";
import type { TopicInfo } from "../types.ts";

export function Topics() {
  const topics = usePoll(() => api<TopicInfo[]>("GET", "topics"), 3000);
  const list = topics.data ?? [];
  return (
    <>
      <h1>Topics</h1>
      <Section title={`Topics (${list.length})`}>
        <ErrorText error={topics.error} />
        <table class="grid" data-table="topics">
          <thead>
            <tr>
              <th>name</th>
              <th class="n">partitions</th>
              <th class="n">records</th>
              <th>configs</th>
            </tr>
          </thead>
          <tbody>
            {list.map((t) => (
              <tr key={t.name} data-topic={t.name}>
                <td>
                  <a href={href("topics", t.name)}>{t.name}</a>
                  {t.internal === true ? <small> (internal)</small> : null}
                </td>
                <td class="n">{num(t.partitions)}</td>
                <td class="n" data-col="messages">
                  {num(t.messages)}
                </td>
                <td class="mono">
                  {Object.entries(t.configs ?? {})
                    .map(([k, v]) => `${k}=${v}`)
                    .join(" ")}
                </td>
              </tr>
            ))}
            {list.length === 0 && topics.data !== undefined && (
              <tr>
                <td colSpan={4} class="empty">
                  no topics yet: create one below, or produce to one with any Kafka client
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </Section>
      <CreateTopic onDone={topics.reload} />
    </>
  );
}

function CreateTopic(props: { onDone: () => void }) {
  const [name, setName] = useState("");
  const [partitions, setPartitions] = useState("1");
  const [retention, setRetention] = useState("");
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      if (name.trim() === "") throw new Error("give the topic a name");
      const configs: Record<string, string> = {};
      if (retention !== "") configs["retention.ms"] = retention;
      await api("PUT", `topics/${encodeURIComponent(name)}`, { partitions: Number(partitions), configs });
      props.onDone();
      return `topic ${name} created`;
    });
  };
  return (
    <Section title="Create a topic">
      <form class="form" onSubmit={submit} data-form="create-topic">
        <Field label="name" name="name" value={name} onInput={setName} />
        <Field
          label="partitions"
          name="partitions"
          type="number"
          value={partitions}
          onInput={setPartitions}
        />
        <Field
          label="retention.ms (empty: default)"
          name="retention"
          value={retention}
          onInput={setRetention}
        />
        <button type="submit" disabled={action.busy}>
          Create
        </button>
      </form>
      <ActionResult action={action} />
    </Section>
  );
}
