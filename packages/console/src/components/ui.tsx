// Small building blocks every page uses: stat tiles, error lines, and actions with a busy/result state.
// Invariant: an action's error is shown beside it (never swallowed); a button is disabled while it runs.

import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";

export function Stat(props: { label: string; value: ComponentChildren; id?: string; warn?: boolean }) {
  return (
    <div class={props.warn === true ? "stat warn" : "stat"} data-stat={props.id ?? props.label}>
      <div class="stat-value">{props.value}</div>
      <div class="stat-label">{props.label}</div>
    </div>
  );
}

export function ErrorText(props: { error: string | null | undefined }) {
  if (props.error === null || props.error === undefined) return null;
  return (
    <p class="error" role="alert">
      {props.error}
    </p>
  );
}

export function Section(props: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="panel">
      <header>
        <h2>{props.title}</h2>
        {props.actions}
      </header>
      {props.children}
    </section>
  );
}

export interface Action {
  readonly busy: boolean;
  readonly error: string | null;
  readonly done: string | null;
  /** runs `fn`; its resolved string (if any) is shown as the result */
  run(fn: () => Promise<string | undefined>): Promise<void>;
}

export function useAction(): Action {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  return {
    busy,
    error,
    done,
    async run(fn) {
      setBusy(true);
      setError(null);
      setDone(null);
      try {
        const result = await fn();
        setDone(typeof result === "string" ? result : null);
      } catch (e) {
        setError(e instanceof Error ? e.message : String(e));
      } finally {
        setBusy(false);
      }
    },
  };
}

/** The result line of an action: its error, or what it did. */
export function ActionResult(props: { action: Action }) {
  const { error, done } = props.action;
  if (error !== null) return <ErrorText error={error} />;
  if (done !== null)
    return (
      <p class="done" role="status">
        {done}
      </p>
    );
  return null;
}

/** A text input bound to a state value. */
export function Field(props: {
  label: string;
  value: string;
  onInput: (v: string) => void;
  name: string;
  placeholder?: string;
  type?: "text" | "number" | "datetime-local";
  wide?: boolean;
}) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the input is inside, rendered by <Input>
    <label class={props.wide === true ? "field wide" : "field"}>
      <span>{props.label}</span>
      <Input {...props} />
    </label>
  );
}

/** A select bound to a state value; `options` are [value, label] pairs. */
export function Select(props: {
  label: string;
  name: string;
  value: string;
  options: readonly (readonly [string, string])[];
  onChange: (v: string) => void;
}) {
  return (
    <label class="field">
      <span>{props.label}</span>
      <select name={props.name} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {props.options.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
    </label>
  );
}

function Input(props: Parameters<typeof Field>[0]) {
  const common = {
    name: props.name,
    value: props.value,
    placeholder: props.placeholder,
    onInput: (e: { currentTarget: HTMLInputElement }) => props.onInput(e.currentTarget.value),
  };
  // preact types `type` as a union per kind of input, so each kind is written out
  if (props.type === "number") return <input type="number" {...common} />;
  if (props.type === "datetime-local") return <input type="datetime-local" step={1} {...common} />;
  return <input type="text" {...common} />;
}

/** Parses a JSON object typed by the user; names the problem otherwise. */
export function parseArgs(text: string, what: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error(`${what} must be a JSON object, e.g. {"x-message-ttl": 60000}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new Error(`${what} must be a JSON object`);
  return v as Record<string, unknown>;
}
