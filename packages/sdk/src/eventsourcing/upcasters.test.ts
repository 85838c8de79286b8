import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connect } from "../index.ts";
import { uniqueName, waitFor } from "../testing/wait.ts";
import { Upcasters } from "./upcasters.ts";

describe("upcasters", () => {
  const u = new Upcasters([
    { type: "OrderCreated", fromVersion: 1, upcast: (d) => ({ ...(d as object), currency: "EUR" }) },
    {
      type: "OrderCreated",
      fromVersion: 2,
      toType: "OrderPlaced",
      upcast: (d) => ({ ...(d as object), lines: [] }),
    },
    { type: "OrderPlaced", fromVersion: 3, upcast: (d) => ({ ...(d as object), v4: true }) },
  ]);

  it("step by step to the current version, renaming on the way", () => {
    assert.equal(u.currentVersion("OrderPlaced"), 4);
    assert.equal(u.currentVersion("Unrelated"), 1);
    assert.deepEqual(u.upcast({ type: "OrderCreated", schemaVersion: 1, data: { id: 1 } }), {
      type: "OrderPlaced",
      schemaVersion: 4,
      data: { id: 1, currency: "EUR", lines: [], v4: true },
    });
    const current = { type: "OrderPlaced", schemaVersion: 4, data: { id: 2 } };
    assert.equal(u.upcast(current), current);
  });

  it("a missing step or a duplicate is an error naming it", () => {
    const gap = new Upcasters([{ type: "T", fromVersion: 2, upcast: (d) => d }]);
    assert.throws(() => gap.upcast({ type: "T", schemaVersion: 1, data: {} }), /no upcaster for T v1/);
    assert.throws(() => gap.register({ type: "T", fromVersion: 2, upcast: (d) => d }), /registered twice/);
    assert.throws(() => gap.register({ type: "T", fromVersion: 0, upcast: (d) => d }), /fromVersion/);
  });

  it("a received message is upcast by its dataversion extension (1 when absent)", async () => {
    const bus = await connect(`memory://${uniqueName("upcast")}`);
    const got: unknown[] = [];
    await bus.subscribe("orders", { group: "g" }, (m) => {
      got.push(u.fromMessage(m));
    });
    await bus.publish("orders", { id: 1 }, { type: "OrderCreated" });
    await bus.publish("orders", { id: 2 }, { type: "OrderCreated", extensions: { dataversion: "2" } });
    await waitFor("both", () => got.length === 2);
    assert.deepEqual(got, [
      { type: "OrderPlaced", schemaVersion: 4, data: { id: 1, currency: "EUR", lines: [], v4: true } },
      { type: "OrderPlaced", schemaVersion: 4, data: { id: 2, lines: [], v4: true } },
    ]);
    await bus.close();
  });
});
