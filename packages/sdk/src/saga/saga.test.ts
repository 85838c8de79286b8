// defineSaga's checks (each names what to change) and the command ids replies are matched by.

import assert from "node:assert/strict";
import { it } from "node:test";
import { commandId, defineSaga, parseCommandId, type SagaStep } from "./saga.ts";

const cmd = { name: "a", command: () => ({ topic: "t", data: 1 }) };

it("defineSaga refuses declarations the orchestrator could not run, naming the fix", () => {
  const bad =
    (steps: unknown[], extra: object = {}) =>
    () =>
      defineSaga({ name: "s", steps: steps as SagaStep<unknown>[], ...extra });
  assert.throws(() => defineSaga({ name: "a b", steps: [cmd] }), /name "a b" must be 1-100 letters/u);
  assert.throws(bad([]), /steps must be a non-empty array/u);
  assert.throws(bad([{ name: "x" }]), /exactly one of command \(a message\) or invoke/u);
  assert.throws(bad([{ ...cmd, invoke: (d: unknown) => d }]), /exactly one of command/u);
  assert.throws(bad([cmd, cmd]), /the name is used twice/u);
  assert.throws(
    bad([{ ...cmd, compensate: () => ({ topic: "t", data: 1 }), undo: () => {} }]),
    /at most one of/u,
  );
  assert.throws(
    bad([{ name: "x", invoke: (d: unknown) => d, onReply: (d: unknown) => d }]),
    /onReply needs a command/u,
  );
  assert.throws(bad([{ ...cmd, timeoutMs: 0 }]), /timeoutMs must be a positive number/u);
  assert.throws(bad([cmd], { compensationAttempts: 0 }), /compensationAttempts must be an integer ≥ 1/u);
  assert.equal(defineSaga({ name: "ok.saga_1", steps: [cmd] }).name, "ok.saga_1");
});

it("command ids carry the saga id, step and kind, whatever the saga id contains", () => {
  for (const id of ["o-1", "a/b/0/do", "saga:x", "ü 1"]) {
    assert.deepEqual(parseCommandId(commandId(id, 3, "action")), { sagaId: id, step: 3, kind: "action" });
    assert.deepEqual(parseCommandId(commandId(id, 0, "compensation")), {
      sagaId: id,
      step: 0,
      kind: "compensation",
    });
  }
  assert.equal(parseCommandId("a plain message id"), undefined);
  assert.equal(parseCommandId(undefined), undefined);
  assert.equal(parseCommandId("saga:x/y/do"), undefined);
});
