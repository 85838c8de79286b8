// Spans and counters through a real OpenTelemetry SDK (sdk-trace-base, sdk-metrics, the W3C propagator
// and the async-hooks context manager), registered globally for this test file's process.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { context, metrics, propagation, SpanKind, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { AggregationTemporality, MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { fakeBus } from "../testing/fake-bus.ts";
import { retry } from "./retry.ts";

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

const exporter = new InMemorySpanExporter();
const reader = new TestReader();

before(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
});
after(() => {
  trace.disable();
  metrics.disable();
  propagation.disable();
  context.disable();
});

async function counters(): Promise<Record<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const out: Record<string, number> = {};
  for (const sm of resourceMetrics.scopeMetrics) {
    for (const m of sm.metrics) {
      out[m.descriptor.name] = m.dataPoints.reduce((n, p) => n + (p.value as number), 0);
    }
  }
  return out;
}

describe("OpenTelemetry (messaging semantic conventions)", () => {
  it("publish → process → ack form one trace; the handler's own publish is a child of process", async () => {
    const { bus, clock } = await fakeBus();
    exporter.reset();
    await bus.subscribe("orders", { group: "billing" }, async (m, ctx) => {
      assert.equal(m.attributes.extensions.traceparent?.length, 55);
      await ctx.publish("invoices", { for: m.id });
    });
    const id = await bus.publish("orders", { orderId: 1 });
    await clock.advance(10);
    const spans = exporter.getFinishedSpans();
    const byName = (n: string) => spans.find((s) => s.name === n);
    const publish = byName("publish orders");
    const process = byName("process orders");
    const child = byName("publish invoices");
    const ack = byName("ack orders");
    assert.ok(publish && process && child && ack, spans.map((s) => s.name).join(", "));
    assert.equal(publish.kind, SpanKind.PRODUCER);
    assert.equal(process.kind, SpanKind.CONSUMER);
    assert.equal(process.spanContext().traceId, publish.spanContext().traceId);
    assert.equal(process.parentSpanContext?.spanId, publish.spanContext().spanId);
    assert.equal(child.parentSpanContext?.spanId, process.spanContext().spanId);
    assert.equal(ack.attributes["messaging.operation.type"], "settle");
    assert.deepEqual(
      {
        system: process.attributes["messaging.system"],
        destination: process.attributes["messaging.destination.name"],
        group: process.attributes["messaging.consumer.group.name"],
        id: process.attributes["messaging.message.id"],
        op: process.attributes["messaging.operation.type"],
      },
      { system: "memory", destination: "orders", group: "billing", id, op: "process" },
    );
    await bus.close();
  });

  it("counters: processed, failed, retried, dead-lettered", async () => {
    const { bus, clock } = await fakeBus();
    const before = await counters();
    await bus.subscribe("c", { group: "g", retry: retry.immediate({ attempts: 2 }) }, (m) => {
      if (m.data === "bad") throw new Error("no");
    });
    await bus.publish("c", "good");
    await bus.publish("c", "bad");
    await clock.advance(10);
    const now = await counters();
    const delta = (k: string) => (now[`spindle.sdk.${k}`] ?? 0) - (before[`spindle.sdk.${k}`] ?? 0);
    assert.deepEqual(
      {
        processed: delta("processed"),
        failed: delta("failed"),
        retried: delta("retried"),
        dead: delta("dead_lettered"),
      },
      { processed: 1, failed: 2, retried: 1, dead: 1 },
    );
    const dl = exporter.getFinishedSpans().find((s) => s.name === "dead_letter c");
    assert.ok(dl, "a settle span for the dead letter");
    await bus.close();
  });

  it("lag: a gauge of the group's backlog where the transport knows it", async () => {
    const { bus, clock } = await fakeBus();
    const topic = `lag-${process.pid}`;
    await bus.subscribe(topic, { group: "g" }, () => new Promise(() => {}));
    for (let i = 0; i < 5; i++) await bus.publish(topic, i);
    await clock.advance(1);
    const { resourceMetrics } = await reader.collect();
    const lag = resourceMetrics.scopeMetrics
      .flatMap((sm) => sm.metrics)
      .find((m) => m.descriptor.name === "spindle.sdk.lag")
      ?.dataPoints.find((p) => p.attributes["messaging.destination.name"] === topic);
    assert.equal(lag?.value, 4, "one held by the stuck handler, four waiting");
    const closing = bus.close(); // the stuck handler is aborted after the 30 s drain
    await clock.advance(30_000);
    await closing;
  });
});
