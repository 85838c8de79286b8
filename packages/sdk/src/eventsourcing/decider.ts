// The Decider pattern: an aggregate as two pure functions — `decide(command, state) → events` and
// `evolve(state, event) → state` — and an initial state. Invariant: the state is only ever a fold of
// `evolve` over the stream's events from `initialState()`, so it can be rebuilt from the store at any
// time (and from a snapshot plus the events after it).

/** An event as a decider produces and evolves it. */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  readonly type: Type;
  readonly data: Data;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

export interface Decider<Command, State, Event extends DomainEvent> {
  /** The events `command` causes in `state` (none, one or several); throw to refuse the command. */
  decide(command: Command, state: State): Event | readonly Event[] | Promise<Event | readonly Event[]>;
  evolve(state: State, event: Event): State;
  initialState(): State;
}

/** `decide`'s answer as an array. */
export async function decided<C, S, E extends DomainEvent>(
  decider: Decider<C, S, E>,
  command: C,
  state: S,
): Promise<readonly E[]> {
  const r = await decider.decide(command, state);
  return Array.isArray(r) ? (r as readonly E[]) : [r as E];
}

/** The state after `events`, from `state` (default: the initial state). */
export function fold<C, S, E extends DomainEvent>(
  decider: Decider<C, S, E>,
  events: readonly E[],
  state: S = decider.initialState(),
): S {
  let s = state;
  for (const e of events) s = decider.evolve(s, e);
  return s;
}
