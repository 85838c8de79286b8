import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { accountDecider } from "../testing/account-decider.ts";
import { deciderSpec } from "./decider-spec.ts";

const spec = deciderSpec(accountDecider);
const opened = { type: "AccountOpened", data: { owner: "ann" } } as const;
const deposited = (amount: number) =>
  ({ type: "AccountDeposited", data: { amount, currency: "EUR" } }) as const;

describe("deciderSpec: given / when / then", () => {
  it("thenEvents: the command's events", async () => {
    await spec
      .given([opened])
      .when({ type: "deposit", amount: 5 })
      .thenEvents([deposited(5)]);
    await spec
      .given([opened, deposited(5)])
      .when({ type: "withdraw", amount: 5 })
      .thenEvents([{ type: "AccountWithdrawn", data: { amount: 5 } }]);
  });

  it("thenNothing, thenState", async () => {
    await spec.given([opened]).when({ type: "withdraw", amount: 0 }).thenNothing();
    await spec
      .given([opened, deposited(5)])
      .when({ type: "deposit", amount: 2 })
      .thenState({ open: true, owner: "ann", balance: 7 });
  });

  it("thenThrows: by class, message pattern or predicate", async () => {
    const when = spec.given([opened]).when({ type: "withdraw", amount: 1 });
    await when.thenThrows();
    await when.thenThrows(Error);
    await when.thenThrows(/insufficient funds: 0/);
    await when.thenThrows((e) => e instanceof Error && e.message.startsWith("insufficient"));
  });

  it("fails when the decider does something else", async () => {
    await assert.rejects(
      spec
        .given([opened])
        .when({ type: "deposit", amount: 5 })
        .thenEvents([deposited(6)]),
      assert.AssertionError,
    );
    await assert.rejects(
      spec.given([opened]).when({ type: "deposit", amount: 5 }).thenThrows(),
      /expected the command to be refused/,
    );
    await assert.rejects(
      spec
        .given([])
        .when({ type: "deposit", amount: 5 })
        .thenThrows(/insufficient/),
      assert.AssertionError,
    );
    await assert.rejects(
      spec.given([opened]).when({ type: "open", owner: "x" }).thenThrows(TypeError),
      /not a TypeError/,
    );
  });
});
