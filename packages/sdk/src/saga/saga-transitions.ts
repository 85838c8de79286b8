// How a saga's state changes, as pure functions of the state and the time: the next version with its
// history entry, the command it awaits, and when an orchestrator must look at it again. Invariant: every
// state built here has version + 1 and a `dueAt` that matches what it waits for.

import {
  commandId,
  isActive,
  type PendingCommand,
  type SagaCommand,
  type SagaHistoryEntry,
  type SagaState,
} from "./saga.ts";

export interface Now {
  readonly nowMs: number;
  /** How long a saga that awaits nothing may go unmoved before another orchestrator moves it. */
  readonly stallMs: number;
}

export type StateChanges = Partial<Pick<SagaState, "status" | "step" | "data" | "error">> & {
  pending?: PendingCommand;
};

/** The next version of `s`: `changes` applied, the pending command dropped unless given, `event` logged. */
export function nextState(
  s: SagaState,
  now: Now,
  changes: StateChanges,
  event?: Omit<SagaHistoryEntry, "at">,
): SagaState {
  const { pending: _drop, dueAt: _due, ...rest } = s;
  const n: SagaState = {
    ...rest,
    ...changes,
    version: s.version + 1,
    updatedAt: now.nowMs,
    history: event === undefined ? s.history : [...s.history, { ...event, at: now.nowMs }],
  };
  const due = dueAt(n, now);
  return due === undefined ? n : { ...n, dueAt: due };
}

/** When someone must look at it: the earliest deadline, or a stall limit when it waits for nothing. */
export function dueAt(s: SagaState, now: Now): number | undefined {
  if (!isActive(s)) return undefined;
  const sagaDeadline = s.status === "running" ? s.deadlineAt : undefined;
  const candidates = [s.pending ? s.pending.deadlineAt : now.nowMs + now.stallMs, sagaDeadline];
  const times = candidates.filter((t): t is number => t !== undefined);
  return times.length === 0 ? undefined : Math.min(...times);
}

/** `s` waiting for the reply to `command`, its step's action or compensation. */
export function awaitingState(
  s: SagaState,
  now: Now,
  kind: PendingCommand["kind"],
  command: SagaCommand,
  timeoutMs: number | undefined,
): SagaState {
  if (typeof command?.topic !== "string" || command.topic.length === 0) {
    throw new TypeError(`saga ${s.name} step ${s.step}: the command must have a topic (a non-empty string)`);
  }
  const pending: PendingCommand = {
    id: commandId(s.id, s.step, kind),
    kind,
    step: s.step,
    command,
    attempt: 1,
    sentAt: now.nowMs,
    ...(timeoutMs === undefined ? {} : { deadlineAt: now.nowMs + timeoutMs }),
  };
  return nextState(s, now, { pending });
}

/** `s` compensating from step `from` down (the failed step itself is included by passing its index). */
export function compensatingState(
  s: SagaState,
  now: Now,
  from: number,
  event: "failed" | "timed-out",
  error: string,
): SagaState {
  return nextState(s, now, { status: "compensating", step: from, error }, { step: s.step, event, error });
}

/** `s` sending its pending command again, same id, with a fresh deadline. */
export function resentState(s: SagaState, now: Now, error: string): SagaState {
  const p = s.pending as PendingCommand;
  const timeoutMs = p.deadlineAt === undefined ? undefined : p.deadlineAt - p.sentAt;
  const pending: PendingCommand = {
    ...p,
    attempt: p.attempt + 1,
    sentAt: now.nowMs,
    ...(timeoutMs === undefined ? {} : { deadlineAt: now.nowMs + timeoutMs }),
  };
  return nextState(s, now, { pending }, { step: s.step, event: "resent", error });
}
