// A projector's lag through a real OpenTelemetry metrics SDK (sdk-metrics), registered globally for this
// test file's process: the gauges follow the projection while it runs and stop when it is closed.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { metrics } from "@opentelemetry/api";
import { AggregationTemporality, MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { memoryEventStore } from "../eventsourcing/memory-event-store.ts";
import { memoryProjectionStore } from "./memory-projection-store.ts";
import { project } from "./projector.ts";

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const reader = new TestReader();
before(() => metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] })));
after(() => metrics.disable());

/** The gauge's value for projection `name`, or undefined when it reported none. */
async function gauge(metric: string, name: string): Promise<number | undefined> {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics
    .flatMap((sm) => sm.metrics)
    .find((m) => m.descriptor.name === metric)
    ?.dataPoints.find((p) => p.attributes["spindle.projection.name"] === name)?.value as number | undefined;
}

describe("projection lag as OpenTelemetry gauges", () => {
  it("spindle.sdk.projection.lag and oldest_age follow the checkpoint, and stop at close", async () => {
    const events = memoryEventStore();
    for (let i = 0; i < 5; i++) await events.append(`s${i}`, [{ type: "T", data: i }]);
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    const applied: unknown[] = [];
    const p = await project(
      events,
      {
        name: "gated",
        apply: async (e) => {
          await gate;
          applied.push(e.data);
        },
        reset: () => {},
      },
      memoryProjectionStore(),
      { batchSize: 2 },
    );
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(
      await gauge("spindle.sdk.projection.lag", "gated"),
      5,
      "the first batch is held at the gate",
    );
    const age = await gauge("spindle.sdk.projection.oldest_age", "gated");
    assert.ok(
      age !== undefined && age >= 15,
      `the oldest event has waited since it was appended (${age} ms)`,
    );
    open();
    await p.caughtUp;
    assert.equal(applied.length, 5);
    assert.equal(await gauge("spindle.sdk.projection.lag", "gated"), 0);
    assert.equal(await gauge("spindle.sdk.projection.oldest_age", "gated"), 0);
    await p.close();
    await events.append("later", [{ type: "T", data: 5 }]);
    // a cumulative reader repeats a gauge's last point: a new reading would be 1
    assert.equal(await gauge("spindle.sdk.projection.lag", "gated"), 0, "no new reading after close");
  });
});
