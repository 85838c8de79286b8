// A small decider for tests and examples: a bank account that is opened, takes deposits and refuses
// withdrawals beyond its balance. Its `AccountDeposited` event had no currency in version 1.

import type { Decider, DomainEvent } from "../eventsourcing/decider.ts";
import { Upcasters } from "../eventsourcing/upcasters.ts";

export type AccountCommand =
  | { readonly type: "open"; readonly owner: string }
  | { readonly type: "deposit"; readonly amount: number }
  | { readonly type: "withdraw"; readonly amount: number };

export type AccountEvent =
  | DomainEvent<"AccountOpened", { owner: string }>
  | DomainEvent<"AccountDeposited", { amount: number; currency: string }>
  | DomainEvent<"AccountWithdrawn", { amount: number }>;

export interface AccountState {
  readonly open: boolean;
  readonly owner: string;
  readonly balance: number;
}

export const accountDecider: Decider<AccountCommand, AccountState, AccountEvent> = {
  initialState: () => ({ open: false, owner: "", balance: 0 }),
  decide(command, state) {
    switch (command.type) {
      case "open":
        if (state.open) throw new Error("the account is already open");
        return { type: "AccountOpened", data: { owner: command.owner } };
      case "deposit":
        if (!state.open) throw new Error("the account is not open");
        return { type: "AccountDeposited", data: { amount: command.amount, currency: "EUR" } };
      case "withdraw":
        if (command.amount > state.balance) throw new Error(`insufficient funds: ${state.balance}`);
        return command.amount === 0 ? [] : { type: "AccountWithdrawn", data: { amount: command.amount } };
    }
  },
  evolve(state, event) {
    switch (event.type) {
      case "AccountOpened":
        return { ...state, open: true, owner: event.data.owner };
      case "AccountDeposited":
        return { ...state, balance: state.balance + event.data.amount };
      case "AccountWithdrawn":
        return { ...state, balance: state.balance - event.data.amount };
    }
  },
};

/** Version 1 of AccountDeposited had no currency: everything was in euros. */
export const accountUpcasters = (): Upcasters =>
  new Upcasters([
    {
      type: "AccountDeposited",
      fromVersion: 1,
      upcast: (data) => ({ ...(data as { amount: number }), currency: "EUR" }),
    },
  ]);
