// An orchestrated saga's declaration (steps with an action and a compensation) and its persisted state.
// Invariant: a definition is checked once, in defineSaga, so the orchestrator never meets a step that has
// two actions or none, or a name it cannot put in a command id.

import type { Message } from "../envelope/envelope.ts";

/** A command the orchestrator publishes; the responder's handler return value is the reply. */
export interface SagaCommand {
  readonly topic: string;
  /** CloudEvents type, so one topic can carry several commands; default the topic. */
  readonly type?: string;
  readonly data: unknown;
  /** Ordering key; default the saga id. */
  readonly key?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What a local call (an `invoke`, an `undo`, a hook) gets besides the data. */
export interface SagaContext {
  readonly sagaId: string;
  readonly sagaName: string;
  /** Index of the step (-1 for the hooks). */
  readonly step: number;
  /**
   * A key that is the same every time this call is repeated (after a crash, by a second orchestrator):
   * pass it to the service called so that it can drop the repeat.
   */
  readonly idempotencyKey: string;
}

export interface SagaStep<D> {
  readonly name: string;
  /** The action as a command message (its reply comes back through the bus)… */
  readonly command?: (data: D) => SagaCommand;
  /** …and how its reply changes the data (default: unchanged). */
  readonly onReply?: (data: D, reply: unknown, message: Message) => D;
  /** …or the action as a local call returning the new data. Runs again after a crash: make it idempotent. */
  readonly invoke?: (data: D, ctx: SagaContext) => D | Promise<D>;
  /** The compensation as a command message (the orchestrator waits for its reply)… */
  readonly compensate?: (data: D) => SagaCommand;
  /** …or as a local call. Steps with neither are skipped when compensating. */
  readonly undo?: (data: D, ctx: SagaContext) => unknown;
  /** How long to wait for the action's (or compensation's) reply; default none. */
  readonly timeoutMs?: number;
}

export interface SagaDefinition<D> {
  readonly name: string;
  readonly steps: readonly SagaStep<D>[];
  /** The whole saga's time limit: when it passes while running, it compensates. */
  readonly timeoutMs?: number;
  /** Sends of a compensation before the saga is marked `failed` (error replies and timeouts); default 3. */
  readonly compensationAttempts?: number;
  /** Runs before `completed` is stored (so at least once: again if the process dies in between). */
  readonly onCompleted?: (data: D, ctx: SagaContext) => unknown;
  /** Runs before `compensated` is stored, with the error that started the compensation. */
  readonly onCompensated?: (data: D, error: string, ctx: SagaContext) => unknown;
  /** Runs before `failed` is stored: a compensation failed for good and needs a person. */
  readonly onFailed?: (data: D, error: string, ctx: SagaContext) => unknown;
}

export type SagaStatus = "running" | "compensating" | "completed" | "compensated" | "failed";

export const ACTIVE_STATUSES: readonly SagaStatus[] = ["running", "compensating"];

export type SagaEvent = "started" | "succeeded" | "failed" | "timed-out" | "compensated" | "resent";

export interface SagaHistoryEntry {
  readonly step: number;
  readonly event: SagaEvent;
  /** Epoch ms. */
  readonly at: number;
  readonly error?: string;
}

/** The command a saga waits for: its id is deterministic, so a re-send is a duplicate a responder drops. */
export interface PendingCommand {
  readonly id: string;
  readonly kind: "action" | "compensation";
  readonly step: number;
  readonly command: SagaCommand;
  /** 1 on the first send; a compensation is re-sent (same id) after an error reply or a timeout. */
  readonly attempt: number;
  readonly sentAt: number;
  readonly deadlineAt?: number;
}

export interface SagaState<D = unknown> {
  readonly id: string;
  readonly name: string;
  readonly status: SagaStatus;
  /** The step running (or being compensated); `steps.length` once all ran, -1 once all are compensated. */
  readonly step: number;
  readonly data: D;
  /** Bumped by every stored change: a write from an older version is refused (optimistic concurrency). */
  readonly version: number;
  readonly error?: string;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly updatedAt: number;
  readonly history: readonly SagaHistoryEntry[];
  readonly pending?: PendingCommand;
  /** The whole saga's deadline (epoch ms). */
  readonly deadlineAt?: number;
  /** When an orchestrator must look at it even if no message comes (a timeout, or a stalled local call). */
  readonly dueAt?: number;
}

const NAME = /^[A-Za-z0-9._-]{1,100}$/u;

/** Checks a saga's declaration and returns it. */
export function defineSaga<D>(definition: SagaDefinition<D>): SagaDefinition<D> {
  const d = definition;
  if (typeof d?.name !== "string" || !NAME.test(d.name)) {
    throw new TypeError(`defineSaga: name "${d?.name}" must be 1-100 letters, digits, '.', '_' or '-'`);
  }
  if (!Array.isArray(d.steps) || d.steps.length === 0) {
    throw new TypeError(`defineSaga ${d.name}: steps must be a non-empty array`);
  }
  const seen = new Set<string>();
  d.steps.forEach((s, i) => {
    const where = `defineSaga ${d.name}: step ${i} (${s?.name})`;
    if (typeof s?.name !== "string" || s.name.length === 0) throw new TypeError(`${where}: needs a name`);
    if (seen.has(s.name)) throw new TypeError(`${where}: the name is used twice`);
    seen.add(s.name);
    if ((s.command === undefined) === (s.invoke === undefined)) {
      throw new TypeError(`${where}: give exactly one of command (a message) or invoke (a local call)`);
    }
    if (s.compensate !== undefined && s.undo !== undefined) {
      throw new TypeError(`${where}: give at most one of compensate (a message) or undo (a local call)`);
    }
    if (s.onReply !== undefined && s.command === undefined) {
      throw new TypeError(`${where}: onReply needs a command`);
    }
    checkMs(where, "timeoutMs", s.timeoutMs);
  });
  checkMs(`defineSaga ${d.name}`, "timeoutMs", d.timeoutMs);
  const attempts = d.compensationAttempts;
  if (attempts !== undefined && !(Number.isSafeInteger(attempts) && attempts >= 1)) {
    throw new TypeError(`defineSaga ${d.name}: compensationAttempts must be an integer ≥ 1`);
  }
  return d;
}

function checkMs(where: string, what: string, ms: number | undefined): void {
  if (ms !== undefined && !(Number.isFinite(ms) && ms > 0)) {
    throw new TypeError(`${where}: ${what} must be a positive number of milliseconds`);
  }
}

export const isActive = (s: SagaState): boolean => s.status === "running" || s.status === "compensating";

/** The id of a step's command: the same on every send, so a responder's inbox drops a re-send. */
export function commandId(sagaId: string, step: number, kind: PendingCommand["kind"]): string {
  return `saga:${sagaId}/${step}/${kind === "action" ? "do" : "undo"}`;
}

/** The saga id, step and kind a command id carries, or undefined for other messages. */
export function parseCommandId(
  id: string | undefined,
): { sagaId: string; step: number; kind: PendingCommand["kind"] } | undefined {
  if (id === undefined || !id.startsWith("saga:")) return undefined;
  const m = /^saga:(.+)\/(\d+)\/(do|undo)$/su.exec(id);
  if (!m) return undefined;
  return { sagaId: m[1] as string, step: Number(m[2]), kind: m[3] === "do" ? "action" : "compensation" };
}
