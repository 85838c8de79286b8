// The publish form shared by the queue page (default exchange, routing key = the queue) and the
// exchange page. Invariant: says whether the message was routed — a silent drop must be visible.

import { useState } from "preact/hooks";
import { api, vh } from "../api.ts";
import { ActionResult, Field, parseArgs, useAction } from "./ui.tsx";

export function Publish(props: { exchange: string; routingKey?: string; onDone?: () => void }) {
  const [key, setKey] = useState(props.routingKey ?? "");
  const [payload, setPayload] = useState("");
  const [headers, setHeaders] = useState("");
  const [persistent, setPersistent] = useState(true);
  const action = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void action.run(async () => {
      const properties: Record<string, unknown> = { delivery_mode: persistent ? 2 : 1 };
      const h = parseArgs(headers, "headers");
      if (Object.keys(h).length > 0) properties.headers = h;
      const body = { properties, routing_key: key, payload, payload_encoding: "string" };
      const exchange = props.exchange === "" ? "amq.default" : props.exchange;
      const res = await api<{ routed?: boolean }>("POST", `exchanges/${vh(exchange)}/publish`, body);
      props.onDone?.();
      return res?.routed === false ? "published, but no queue was bound for that routing key" : "published";
    });
  };
  return (
    <form class="form" onSubmit={submit} data-form="publish">
      <Field label="routing key" name="routing_key" value={key} onInput={setKey} />
      <label class="field wide">
        <span>payload</span>
        <textarea
          name="payload"
          rows={3}
          value={payload}
          onInput={(e) => setPayload(e.currentTarget.value)}
        />
      </label>
      <Field
        label="headers (JSON)"
        name="headers"
        value={headers}
        onInput={setHeaders}
        placeholder='{"trace-id": "abc"}'
      />
      <label class="check">
        <input
          type="checkbox"
          checked={persistent}
          onChange={(e) => setPersistent(e.currentTarget.checked)}
        />
        persistent
      </label>
      <button type="submit" disabled={action.busy}>
        Publish
      </button>
      <ActionResult action={action} />
    </form>
  );
}
