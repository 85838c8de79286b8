// A projection's lag as OpenTelemetry gauges, read through `Projector.lag()` only when a metric reader
// collects (like the outbox's backlog gauges). Invariant: a projector observes while started and not after
// close, and a failed lag query reports nothing rather than a stale or made-up value.

import { type BatchObservableCallback, metrics, type ObservableGauge } from "@opentelemetry/api";
import { SDK_NAME, SDK_VERSION } from "../version.ts";

export interface LagReading {
  readonly events: number;
  readonly ms: number;
}

/**
 * `spindle.sdk.projection.lag` (events after the checkpoint) and `spindle.sdk.projection.oldest_age` (ms
 * the oldest of them has waited), with the projection's name as `spindle.projection.name`. Made per
 * projector, not once: the API hands out no-op meters until an OTel SDK is registered.
 */
export function observeProjectionLag(name: string, lag: () => Promise<LagReading>): { close(): void } {
  const meter = metrics.getMeter(SDK_NAME, SDK_VERSION);
  const events: ObservableGauge = meter.createObservableGauge("spindle.sdk.projection.lag", {
    description: "events in the event store after the projection's checkpoint",
    unit: "{event}",
  });
  const age: ObservableGauge = meter.createObservableGauge("spindle.sdk.projection.oldest_age", {
    description: "how long the oldest event not yet projected has waited",
    unit: "ms",
  });
  const attrs = { "spindle.projection.name": name };
  const observe: BatchObservableCallback = async (r) => {
    const l = await lag().catch(() => undefined);
    if (l === undefined) return;
    r.observe(events, l.events, attrs);
    r.observe(age, l.ms, attrs);
  };
  meter.addBatchObservableCallback(observe, [events, age]);
  return { close: () => meter.removeBatchObservableCallback(observe, [events, age]) };
}
