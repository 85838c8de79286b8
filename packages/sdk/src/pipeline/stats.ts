// Counters of one subscription (processed, failed attempts, retried, dead-lettered, duplicates skipped,
// released by the breaker), mirrored to OpenTelemetry counters when an OTel SDK is installed. Invariant:
// each delivery that is settled adds to exactly one of processed, deadLettered, duplicates, released or
// (sent back for a delayed retry) retried.

import { type Counter, metrics, type ObservableCallback, type ObservableGauge } from "@opentelemetry/api";
import { SDK_NAME, SDK_VERSION } from "../version.ts";

export interface SubscriptionStats {
  processed: number;
  failed: number;
  retried: number;
  deadLettered: number;
  duplicates: number;
  released: number;
}

interface OtelCounters {
  readonly processed: Counter;
  readonly failed: Counter;
  readonly retried: Counter;
  readonly deadLettered: Counter;
  readonly duplicates: Counter;
}

/** Made per subscription, not once: the API hands out no-op meters until an OTel SDK is registered. */
function otelCounters(): OtelCounters {
  const meter = metrics.getMeter(SDK_NAME, SDK_VERSION);
  const c = (name: string, description: string): Counter =>
    meter.createCounter(`spindle.sdk.${name}`, { description, unit: "{message}" });
  return {
    processed: c("processed", "messages handled successfully"),
    failed: c("failed", "handler attempts that threw"),
    retried: c("retried", "retries scheduled (in process or delayed through the broker)"),
    deadLettered: c("dead_lettered", "messages sent to a dead-letter queue"),
    duplicates: c("duplicates", "messages skipped by the inbox as already processed"),
  };
}

export class StatsRecorder {
  readonly stats: SubscriptionStats = {
    processed: 0,
    failed: 0,
    retried: 0,
    deadLettered: 0,
    duplicates: 0,
    released: 0,
  };
  private readonly attrs: Record<string, string>;
  private readonly otel = otelCounters();

  constructor(system: string, topic: string, group: string) {
    this.attrs = {
      "messaging.system": system,
      "messaging.destination.name": topic,
      "messaging.consumer.group.name": group,
    };
  }

  add(kind: Exclude<keyof SubscriptionStats, "released">): void {
    this.stats[kind]++;
    this.otel[kind].add(1, this.attrs);
  }

  released(): void {
    this.stats.released++;
  }

  private lagGauge: { gauge: ObservableGauge; callback: ObservableCallback } | undefined;

  /** Reports the group's backlog as the gauge `spindle.sdk.lag` when the transport knows it. */
  observeLag(lag: () => Promise<number | undefined>): void {
    const gauge = metrics.getMeter(SDK_NAME, SDK_VERSION).createObservableGauge("spindle.sdk.lag", {
      description: "messages of the group not yet delivered (consumer lag), where the transport knows",
      unit: "{message}",
    });
    const callback: ObservableCallback = async (result) => {
      const n = await lag().catch(() => undefined);
      if (n !== undefined) result.observe(n, this.attrs);
    };
    gauge.addCallback(callback);
    this.lagGauge = { gauge, callback };
  }

  close(): void {
    this.lagGauge?.gauge.removeCallback(this.lagGauge.callback);
    this.lagGauge = undefined;
  }
}
