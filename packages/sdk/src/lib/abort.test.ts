import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import { untilAborted } from "./abort.ts";

describe("untilAborted", () => {
  it("gives the promise's outcome while the signal stays quiet", async () => {
    const ac = new AbortController();
    assert.equal(await untilAborted(Promise.resolve(7), ac.signal), 7);
    await assert.rejects(untilAborted(Promise.reject(new Error("boom")), ac.signal), /boom/);
  });

  it("rejects with the signal's reason at the abort, though the promise never settles", async () => {
    const ac = new AbortController();
    const waits = [1, 2, 3].map(() => untilAborted(new Promise(() => {}), ac.signal));
    ac.abort(new Error("subscription closed"));
    for (const w of waits) await assert.rejects(w, /subscription closed/);
    await assert.rejects(untilAborted(Promise.resolve(1), ac.signal), /subscription closed/);
  });

  it("puts one listener on a signal however many waits share it", async () => {
    const ac = new AbortController();
    const resolvers: ((n: number) => void)[] = [];
    const waits = Array.from({ length: 50 }, () =>
      untilAborted(new Promise<number>((r) => resolvers.push(r)), ac.signal),
    );
    assert.equal(getEventListeners(ac.signal, "abort").length, 1);
    for (const [i, r] of resolvers.entries()) r(i);
    assert.deepEqual(await Promise.all(waits), [...resolvers.keys()]);
    assert.equal(getEventListeners(ac.signal, "abort").length, 1);
  });
});
