// The saga orchestrator: starts sagas, sends their commands, applies replies and timeouts, compensates in
// reverse, and resumes what a crashed process left. Invariants: every change is a versioned write of the
// store (a stale one is refused and decided again), a command is published only after the state that
// awaits it is stored, and a command keeps its id on every send, so repeats are duplicates to drop.

import { randomUUID } from "node:crypto";
import type { Bus, SubscribeOptions, Subscription } from "../bus.ts";
import type { Message } from "../envelope/envelope.ts";
import type { TimerHandle } from "../lib/clock.ts";
import { EndWaiters, type WaitOptions } from "./end-waiters.ts";
import {
  isActive,
  type PendingCommand,
  parseCommandId,
  type SagaCommand,
  type SagaContext,
  type SagaDefinition,
  type SagaHistoryEntry,
  type SagaState,
} from "./saga.ts";
import type { SagaQuery, SagaStore } from "./saga-store.ts";
import {
  awaitingState,
  compensatingState,
  type Now,
  nextState,
  resentState,
  type StateChanges,
} from "./saga-transitions.ts";

export interface SagaOrchestratorOptions {
  readonly store: SagaStore;
  // biome-ignore lint/suspicious/noExplicitAny: each saga has its own data type
  readonly sagas: readonly SagaDefinition<any>[];
  /**
   * Names the durable reply topic `saga.<name>.replies` and its group `saga-<name>`: the instances of one
   * application share it (any instance may finish any saga). Default "spindle".
   */
  readonly name?: string;
  /** How often the store is asked for sagas that are due (timeouts left by other processes); default 1 s. */
  readonly sweepIntervalMs?: number;
  /** After how long an active saga nobody moves (its process died in a local call) is moved; default 30 s. */
  readonly stallMs?: number;
  /** How long after a failed publish of a command it is sent again; default 1 s. */
  readonly resendMs?: number;
  /** Options of the reply subscription (retry, dead letters, …); concurrency defaults to 16. */
  readonly replies?: Omit<SubscribeOptions, "group">;
  readonly onError?: (error: unknown, context: string) => void;
}

export interface StartSagaOptions {
  /** The saga's id (e.g. the order id); default a random UUID. Starting an id that exists does nothing. */
  readonly id?: string;
}

type Decide = (s: SagaState) => Promise<SagaState | undefined>;

const ORCHESTRATOR_NAME = /^[A-Za-z0-9_-]{1,100}$/u;
const TERMINAL_HOOK_STEP = -1;

export class SagaOrchestrator {
  private readonly defs = new Map<string, SagaDefinition<unknown>>();
  private readonly timers = new Map<string, TimerHandle>();
  private readonly running = new Map<string, Promise<unknown>>();
  private readonly ends: EndWaiters;
  private readonly replyTopic: string;
  private readonly group: string;
  private readonly store: SagaStore;
  private subscription: Subscription | undefined;
  private sweepTimer: TimerHandle | undefined;
  private closed = false;

  constructor(
    private readonly bus: Bus,
    private readonly options: SagaOrchestratorOptions,
  ) {
    const name = options.name ?? "spindle";
    if (!ORCHESTRATOR_NAME.test(name)) {
      throw new TypeError(`sagaOrchestrator: name "${name}" must be 1-100 letters, digits, '_' or '-'`);
    }
    if (options.store === undefined) throw new TypeError("sagaOrchestrator: options.store is required");
    this.store = options.store;
    this.ends = new EndWaiters(bus.clock);
    this.replyTopic = `saga.${name}.replies`;
    this.group = `saga-${name}`;
    for (const d of options.sagas ?? []) {
      if (this.defs.has(d.name)) throw new TypeError(`sagaOrchestrator: saga "${d.name}" is given twice`);
      this.defs.set(d.name, d as SagaDefinition<unknown>);
    }
    if (this.defs.size === 0)
      throw new TypeError("sagaOrchestrator: options.sagas must name at least one saga");
  }

  /** Subscribes to replies, then resumes every active saga it knows: re-sends, re-arms, moves on. */
  async open(): Promise<this> {
    this.subscription = await this.bus.subscribe(
      this.replyTopic,
      // replies to different sagas are independent (one saga's run one at a time, by `run`)
      { concurrency: 16, ...this.options.replies, group: this.group },
      (m) => this.onReplyMessage(m),
    );
    await this.resume();
    this.scheduleSweep();
    return this;
  }

  /** Starts saga `name` with `data`; resolves with its id once its first command is sent (or it ended). */
  async start<D>(name: string, data: D, options: StartSagaOptions = {}): Promise<string> {
    this.checkOpen();
    const def = this.defs.get(name);
    if (def === undefined) {
      throw new TypeError(`sagas.start: no saga "${name}" (known: ${[...this.defs.keys()].join(", ")})`);
    }
    const id = options.id ?? randomUUID();
    if (typeof id !== "string" || id.length === 0)
      throw new TypeError("sagas.start: id must be a non-empty string");
    const now = this.bus.clock.nowMs();
    const state: SagaState = {
      id,
      name,
      status: "running",
      step: 0,
      data,
      version: 1,
      startedAt: now,
      updatedAt: now,
      history: [{ step: 0, event: "started", at: now }],
      ...(def.timeoutMs === undefined ? {} : { deadlineAt: now + def.timeoutMs }),
      dueAt: now + this.stallMs,
    };
    if (!(await this.store.create(state))) {
      const existing = await this.store.get(id);
      if (existing !== undefined && existing.name !== name) {
        throw new TypeError(`sagas.start: id "${id}" belongs to a saga "${existing.name}", not "${name}"`);
      }
      return id;
    }
    await this.run(id, (s) => this.proceed(s));
    return id;
  }

  get<D = unknown>(id: string): Promise<SagaState<D> | undefined> {
    return this.store.get(id) as Promise<SagaState<D> | undefined>;
  }

  list<D = unknown>(query?: SagaQuery): Promise<SagaState<D>[]> {
    return this.store.list(query) as Promise<SagaState<D>[]>;
  }

  /**
   * Resolves with the saga's state once it has ended (completed, compensated or failed) — at once when
   * this orchestrator stores the end, else seen by polling the store every `pollMs` (another instance).
   */
  finished<D = unknown>(id: string, options?: WaitOptions): Promise<SagaState<D>> {
    return this.ends.wait(id, (x) => this.store.get(x), options) as Promise<SagaState<D>>;
  }

  /** Stops taking replies and timers; sagas stay where they are, for the next orchestrator to resume. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.bus.clock.clearTimer(this.sweepTimer);
    for (const t of this.timers.values()) this.bus.clock.clearTimer(t);
    this.timers.clear();
    await this.subscription?.close();
    await Promise.allSettled([...this.running.values()]);
  }

  private get stallMs(): number {
    return this.options.stallMs ?? 30_000;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error("the saga orchestrator is closed");
  }

  private reportError(error: unknown, context: string): void {
    if (this.options.onError) this.options.onError(error, context);
    else console.error(`@spindle/sdk sagas: ${context}:`, error);
  }

  // ── driving ─────────────────────────────────────────────────────────────────────────────────────────

  /** Applies `first`, then moves the saga on until it waits for a reply or has ended; one run per saga. */
  private run(id: string, first: Decide): Promise<void> {
    const prev = this.running.get(id) ?? Promise.resolve();
    const next = prev.then(async () => {
      let decide = first;
      for (let n = 0; n < 10_000 && !this.closed; n++) {
        const s = await this.change(id, decide);
        if (s === undefined || !isActive(s) || s.pending !== undefined) return;
        decide = (x) => this.proceed(x);
      }
    });
    const settled = next.catch((e) => this.reportError(e, `saga ${id}`));
    this.running.set(id, settled);
    void settled.then(() => {
      if (this.running.get(id) === settled) this.running.delete(id);
    });
    return next;
  }

  /** One decided change, written over the version it was decided on; decided again on a conflict. */
  private async change(id: string, decide: Decide): Promise<SagaState | undefined> {
    for (let conflicts = 0; ; conflicts++) {
      const s = await this.store.get(id);
      if (s === undefined || !this.defs.has(s.name) || !isActive(s)) return undefined;
      const next = await decide(s);
      if (next === undefined) {
        this.arm(s);
        return undefined;
      }
      if (await this.store.update(next)) {
        this.afterWrite(s, next);
        return next;
      }
      if (conflicts >= 50) throw new Error(`saga ${id}: 50 conflicting writes in a row`);
    }
  }

  private afterWrite(prev: SagaState, next: SagaState): void {
    this.arm(next);
    this.ends.notify(next);
    const p = next.pending;
    if (p !== undefined && (prev.pending?.id !== p.id || prev.pending.attempt !== p.attempt)) {
      void this.send(next);
    }
  }

  /** Publishes the saga's pending command (again: same id); a failed publish is tried again later. */
  private async send(s: SagaState): Promise<void> {
    const p = s.pending;
    if (p === undefined || this.closed) return;
    try {
      await this.bus.publish(p.command.topic, p.command.data, {
        id: p.id,
        type: p.command.type ?? p.command.topic,
        key: p.command.key ?? s.id,
        correlationId: s.id,
        ...(p.command.headers === undefined ? {} : { headers: p.command.headers }),
        extensions: { replyto: this.replyTopic },
      });
    } catch (e) {
      if (this.closed) return;
      this.reportError(e, `saga ${s.id}: sending ${p.id}`);
      this.bus.clock.setTimer(this.options.resendMs ?? 1000, () => {
        void this.store
          .get(s.id)
          .then((now) => {
            if (now?.pending?.id === p.id && isActive(now)) return this.send(now);
          })
          .catch((err) => this.reportError(err, `saga ${s.id}: re-sending ${p.id}`));
      });
    }
  }

  /** Keeps one timer per saga, at its `dueAt`. */
  private arm(s: SagaState): void {
    this.bus.clock.clearTimer(this.timers.get(s.id));
    this.timers.delete(s.id);
    if (this.closed || !isActive(s) || s.dueAt === undefined) return;
    const timer = this.bus.clock.setTimer(Math.max(0, s.dueAt - this.bus.clock.nowMs()), () => {
      if (this.timers.get(s.id) === timer) this.timers.delete(s.id);
      void this.run(s.id, (x) => this.onDue(x)).catch(() => {});
    });
    this.timers.set(s.id, timer);
  }

  private async resume(): Promise<void> {
    for (const status of ["running", "compensating"] as const) {
      let afterId: string | undefined;
      for (;;) {
        const page = await this.store.list({
          status,
          limit: 500,
          ...(afterId === undefined ? {} : { afterId }),
        });
        for (const s of page) {
          if (!this.defs.has(s.name)) continue;
          if (s.pending !== undefined) {
            this.arm(s);
            await this.send(s);
          } else void this.run(s.id, (x) => this.proceed(x)).catch(() => {});
        }
        if (page.length < 500) break;
        afterId = page[page.length - 1]?.id;
      }
    }
  }

  private scheduleSweep(): void {
    if (this.closed) return;
    this.sweepTimer = this.bus.clock.setTimer(this.options.sweepIntervalMs ?? 1000, () => {
      void this.sweep()
        .catch((e) => this.reportError(e, "sweeping due sagas"))
        .finally(() => this.scheduleSweep());
    });
  }

  private async sweep(): Promise<void> {
    const due = await this.store.due(this.bus.clock.nowMs(), 100);
    await Promise.all(
      due
        .filter((s) => this.defs.has(s.name))
        .map((s) => this.run(s.id, (x) => this.onDue(x)).catch(() => {})),
    );
  }

  // ── decisions: each returns the next state (or undefined: nothing to change) ─────────────────────────

  private def(s: SagaState): SagaDefinition<unknown> {
    return this.defs.get(s.name) as SagaDefinition<unknown>;
  }

  private ctx(s: SagaState, step: number, key: string): SagaContext {
    return { sagaId: s.id, sagaName: s.name, step, idempotencyKey: `saga:${s.id}/${key}` };
  }

  /** Moves an active saga that waits for nothing: the next step, compensation, or its end. */
  private async proceed(s: SagaState): Promise<SagaState | undefined> {
    if (s.pending !== undefined) return undefined;
    const def = this.def(s);
    if (s.status === "running") {
      if (s.step >= def.steps.length) {
        await def.onCompleted?.(s.data, this.ctx(s, TERMINAL_HOOK_STEP, "completed"));
        return this.next(s, { status: "completed" });
      }
      const step = def.steps[s.step];
      if (step === undefined) throw new Error(`saga ${s.id}: no step ${s.step}`);
      const build = step.command;
      if (build) return this.awaiting(s, "action", () => build(s.data), step.timeoutMs);
      let data: unknown;
      try {
        data = await step.invoke?.(s.data, this.ctx(s, s.step, `${s.step}/do`));
      } catch (e) {
        return this.compensating(s, s.step - 1, "failed", describe(e));
      }
      return this.next(s, { step: s.step + 1, data }, { step: s.step, event: "succeeded" });
    }
    if (s.step < 0) {
      await def.onCompensated?.(s.data, s.error ?? "", this.ctx(s, TERMINAL_HOOK_STEP, "compensated"));
      return this.next(s, { status: "compensated" });
    }
    const step = def.steps[s.step];
    if (step === undefined) throw new Error(`saga ${s.id}: no step ${s.step}`);
    const build = step.compensate;
    if (build) return this.awaiting(s, "compensation", () => build(s.data), step.timeoutMs);
    if (step.undo) {
      try {
        await step.undo(s.data, this.ctx(s, s.step, `${s.step}/undo`));
      } catch (e) {
        return this.failed(s, `undo of step ${step.name} failed: ${describe(e)}`);
      }
      return this.next(s, { step: s.step - 1 }, { step: s.step, event: "compensated" });
    }
    return this.next(s, { step: s.step - 1 });
  }

  private async onReplyMessage(m: Message): Promise<void> {
    const ref = parseCommandId(m.causationId);
    if (ref === undefined) return; // not a reply to a saga command
    await this.run(ref.sagaId, (s) => this.onReply(s, ref.step, m));
  }

  private async onReply(s: SagaState, step: number, m: Message): Promise<SagaState | undefined> {
    const p = s.pending;
    if (p === undefined || p.id !== m.causationId || p.step !== step) return undefined; // duplicate or late
    const error = m.attributes.extensions.replyerror;
    const def = this.def(s);
    const name = def.steps[s.step]?.name;
    if (p.kind === "compensation") {
      if (error !== undefined) return this.retryCompensation(s, `compensation of ${name} failed: ${error}`);
      return this.next(s, { step: s.step - 1 }, { step: s.step, event: "compensated" });
    }
    if (error !== undefined) return this.compensating(s, s.step - 1, "failed", `${name} failed: ${error}`);
    let data = s.data;
    try {
      const onReply = def.steps[s.step]?.onReply;
      if (onReply) data = onReply(s.data, m.data, m);
    } catch (e) {
      return this.compensating(s, s.step, "failed", `${name}: onReply failed: ${describe(e)}`);
    }
    return this.next(s, { step: s.step + 1, data }, { step: s.step, event: "succeeded" });
  }

  private async onDue(s: SagaState): Promise<SagaState | undefined> {
    const now = this.bus.clock.nowMs();
    if (s.dueAt === undefined || s.dueAt > now) return undefined;
    const p = s.pending;
    if (p === undefined) return this.proceed(s); // its process died between two writes
    const def = this.def(s);
    const name = def.steps[s.step]?.name;
    if (s.status === "running" && s.deadlineAt !== undefined && s.deadlineAt <= now) {
      // the step that waits may have acted already: it is compensated too
      const why = `saga ${s.name} timed out after ${def.timeoutMs} ms`;
      return this.compensating(s, p.kind === "action" ? s.step : s.step - 1, "timed-out", why);
    }
    if (p.deadlineAt === undefined || p.deadlineAt > now) return undefined;
    const why = `${name}: no reply within ${def.steps[s.step]?.timeoutMs} ms`;
    if (p.kind === "action") return this.compensating(s, s.step, "timed-out", why);
    return this.retryCompensation(s, `compensation of ${why}`);
  }

  // ── state builders (saga-transitions.ts) ───────────────────────────────────────────────────────────

  private now(): Now {
    return { nowMs: this.bus.clock.nowMs(), stallMs: this.stallMs };
  }

  private next(s: SagaState, changes: StateChanges, event?: Omit<SagaHistoryEntry, "at">): SagaState {
    return nextState(s, this.now(), changes, event);
  }

  /** Waits for the reply to the step's command; a command that cannot be built fails the step. */
  private awaiting(s: SagaState, kind: PendingCommand["kind"], build: () => SagaCommand, timeoutMs?: number) {
    let command: SagaCommand;
    try {
      command = build();
      return awaitingState(s, this.now(), kind, command, timeoutMs);
    } catch (e) {
      const name = this.def(s).steps[s.step]?.name;
      if (kind === "compensation") return this.failed(s, `compensation of ${name}: ${describe(e)}`);
      return this.compensating(s, s.step - 1, "failed", `${name}: ${describe(e)}`);
    }
  }

  private compensating(s: SagaState, from: number, event: "failed" | "timed-out", error: string): SagaState {
    return compensatingState(s, this.now(), from, event, error);
  }

  private async retryCompensation(s: SagaState, error: string): Promise<SagaState | undefined> {
    const attempt = s.pending?.attempt ?? 1;
    if (attempt >= (this.def(s).compensationAttempts ?? 3)) {
      return this.failed(s, `${error} (after ${attempt} attempts)`);
    }
    return resentState(s, this.now(), error);
  }

  private async failed(s: SagaState, error: string): Promise<SagaState> {
    await this.def(s).onFailed?.(s.data, error, this.ctx(s, TERMINAL_HOOK_STEP, "failed"));
    return this.next(s, { status: "failed", error }, { step: s.step, event: "failed", error });
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** An orchestrator for `options.sagas` on `bus`, subscribed to its replies and resuming unfinished sagas. */
export async function sagaOrchestrator(
  bus: Bus,
  options: SagaOrchestratorOptions,
): Promise<SagaOrchestrator> {
  return new SagaOrchestrator(bus, options).open();
}
