import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { describe, it } from "node:test";
import { Slots } from "./pull-loop.ts";

describe("Slots", () => {
  it("a wait for a free slot leaves no abort listener behind once a slot frees", async () => {
    const slots = new Slots(1);
    const stop = new AbortController();
    for (let i = 0; i < 20; i++) {
      slots.used = 1;
      const waiting = slots.waitFree(stop.signal);
      slots.release();
      await waiting;
    }
    assert.equal(getEventListeners(stop.signal, "abort").length, 0);
  });

  it("a wait ends when the loop stops", async () => {
    const slots = new Slots(1);
    slots.used = 1;
    const stop = new AbortController();
    const waiting = slots.waitFree(stop.signal);
    stop.abort();
    await waiting;
    assert.equal(slots.free, 0);
  });
});
