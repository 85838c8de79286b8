// OpenTelemetry spans per the messaging semantic conventions: "publish <topic>" (PRODUCER, operation type
// send), "process <topic>" (CONSUMER, child of the publisher's context carried in the message) and
// "<ack|dead_letter|retry|release> <topic>" (settle). Trace context travels as the CloudEvents
// distributed-tracing extensions `traceparent`/`tracestate`. Invariant: only @opentelemetry/api is
// used — without an OTel SDK installed nothing here does anything (and costs next to nothing).

import {
  type Context,
  context,
  ProxyTracerProvider,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  trace,
} from "@opentelemetry/api";
import type { TransportMessage } from "../transports/transport.ts";
import { SDK_NAME, SDK_VERSION } from "../version.ts";
import type { ConsumeContext, Middleware, Next } from "./context.ts";

const getter: TextMapGetter<Readonly<Record<string, string>>> = {
  keys: (c) => Object.keys(c),
  get: (c, k) => c[k],
};

function tracer() {
  return trace.getTracer(SDK_NAME, SDK_VERSION);
}

/**
 * Whether OpenTelemetry is set up: a tracer provider or a propagator registered (looked up on each
 * message, so one registered later counts). Without either, every span and context call below is a no-op,
 * and skipping them saves the attribute objects, contexts and span objects they build per message
 * (a third of the SDK's own CPU per message on a do-nothing transport).
 */
function tracingOn(): boolean {
  const provider = trace.getTracerProvider();
  const noTracer =
    provider instanceof ProxyTracerProvider &&
    provider.getDelegateTracer(SDK_NAME, SDK_VERSION) === undefined;
  return !noTracer || propagation.fields().length > 0;
}

function messageAttributes(
  system: string,
  topic: string,
  m: TransportMessage,
): Record<string, string | number> {
  const a: Record<string, string | number> = {
    "messaging.system": system,
    "messaging.destination.name": topic,
    "messaging.message.id": m.attributes.id,
    "messaging.message.body.size": m.body.length,
  };
  // no correlationid: the message started its conversation (envelope.ts)
  a["messaging.message.conversation_id"] = m.attributes.extensions.correlationid ?? m.attributes.id;
  return a;
}

/**
 * Runs `publish` inside a PRODUCER span and hands it the trace context to carry; without OpenTelemetry set
 * up it runs `publish(undefined)` at once (nothing to carry, no promise of its own).
 */
export function tracedPublish<T>(
  system: string,
  topic: string,
  m: TransportMessage,
  publish: (traceContext: Record<string, string> | undefined) => Promise<T>,
): Promise<T> {
  if (!tracingOn()) return publish(undefined);
  return publishInSpan(system, topic, m, publish);
}

async function publishInSpan<T>(
  system: string,
  topic: string,
  m: TransportMessage,
  publish: (traceContext: Record<string, string>) => Promise<T>,
): Promise<T> {
  const span = tracer().startSpan(`publish ${topic}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      ...messageAttributes(system, topic, m),
      "messaging.operation.name": "publish",
      "messaging.operation.type": "send",
    },
  });
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  try {
    return await context.with(trace.setSpan(context.active(), span), () => publish(carrier));
  } catch (e) {
    failed(span, e);
    throw e;
  } finally {
    span.end();
  }
}

function failed(span: Span, e: unknown): void {
  span.recordException(e instanceof Error ? e : String(e));
  span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
}

/** The context a received message's producer left in it. */
export function extractContext(m: TransportMessage): Context {
  return propagation.extract(context.active(), m.attributes.extensions, getter);
}

/** The process span, outermost middleware: the handler (and what it publishes) runs inside it. */
export function tracingMiddleware(system: string): Middleware {
  // not async: without OpenTelemetry the layer is one call, no promise of its own
  return (ctx, next) => (tracingOn() ? processInSpan(system, ctx, next) : next());
}

async function processInSpan(system: string, ctx: ConsumeContext, next: Next): Promise<void> {
  const m = ctx.delivery.message;
  const span = tracer().startSpan(
    `process ${ctx.topic}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        ...messageAttributes(system, ctx.topic, m),
        "messaging.operation.name": "process",
        "messaging.operation.type": "process",
        "messaging.consumer.group.name": ctx.group,
      },
    },
    extractContext(m),
  );
  try {
    await context.with(trace.setSpan(extractContext(m), span), next);
    span.setAttribute("spindle.attempts", ctx.attempt);
    if (ctx.outcome !== undefined) span.setAttribute("spindle.outcome", ctx.outcome);
  } catch (e) {
    failed(span, e);
    throw e;
  } finally {
    span.end();
  }
}

/** A settle span ("ack orders", "dead_letter orders", …) around the call that settles a delivery. */
export function tracedSettle(
  system: string,
  topic: string,
  operation: string,
  fn: () => Promise<void>,
): Promise<void> {
  return tracingOn() ? settleInSpan(system, topic, operation, fn) : fn();
}

async function settleInSpan(
  system: string,
  topic: string,
  operation: string,
  fn: () => Promise<void>,
): Promise<void> {
  const span = tracer().startSpan(`${operation} ${topic}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      "messaging.system": system,
      "messaging.destination.name": topic,
      "messaging.operation.name": operation,
      "messaging.operation.type": "settle",
    },
  });
  try {
    await context.with(trace.setSpan(context.active(), span), fn);
  } catch (e) {
    failed(span, e);
    throw e;
  } finally {
    span.end();
  }
}
