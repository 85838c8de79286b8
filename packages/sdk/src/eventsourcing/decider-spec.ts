// Given/when/then tests for deciders: given past events, when a command arrives, then these events (or
// this error). Invariant: the decider under test is only called as the command handler calls it — the
// state is the fold of the given events — so a passing spec holds for the stored aggregate too.

import assert from "node:assert/strict";
import { type Decider, type DomainEvent, decided, fold } from "./decider.ts";

export interface DeciderThen<S, E extends DomainEvent> {
  /** The command's events equal `expected` (type, data and metadata compared deeply). Not `then`: an
   * object with a `then` method would be mistaken for a promise by `await`. */
  thenEvents(expected: readonly E[]): Promise<void>;
  /** The command causes no event. */
  thenNothing(): Promise<void>;
  /** The state after the given and the new events equals `expected`. */
  thenState(expected: S): Promise<void>;
  /** The command is refused: decide throws an error matching `expected` (class, RegExp on the message,
   * or a predicate). */
  thenThrows(
    expected?: (new (...args: never[]) => Error) | RegExp | ((e: unknown) => boolean),
  ): Promise<void>;
}

export interface DeciderSpec<C, S, E extends DomainEvent> {
  given(events: readonly E[]): { when(command: C): DeciderThen<S, E> };
}

/** A given/when/then helper for `decider` (for node:test, or any runner that reports thrown errors). */
export function deciderSpec<C, S, E extends DomainEvent>(decider: Decider<C, S, E>): DeciderSpec<C, S, E> {
  return {
    given: (events) => ({
      when: (command) => {
        const state = () => fold(decider, events);
        const run = () => decided(decider, command, state());
        return {
          thenEvents: async (expected) => {
            assert.deepStrictEqual(await run(), expected);
          },
          thenNothing: async () => {
            assert.deepStrictEqual(await run(), []);
          },
          thenState: async (expected) => {
            assert.deepStrictEqual(fold(decider, await run(), state()), expected);
          },
          thenThrows: async (expected) => {
            let events: readonly E[] | undefined;
            try {
              events = await run();
            } catch (e) {
              if (expected === undefined) return;
              if (expected instanceof RegExp)
                assert.match(e instanceof Error ? e.message : String(e), expected);
              else if (expected.prototype instanceof Error || expected === Error) {
                assert.ok(
                  e instanceof (expected as new () => Error),
                  `threw ${String(e)}, not a ${expected.name}`,
                );
              } else assert.ok((expected as (e: unknown) => boolean)(e), `threw ${String(e)}`);
              return;
            }
            assert.fail(`expected the command to be refused, but it caused ${JSON.stringify(events)}`);
          },
        };
      },
    }),
  };
}
