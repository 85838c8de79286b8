// Dead letters: after the last attempt, or at once for a NonRetryableError, the message goes to its
// dead-letter queue with why (error, stack head, attempts, original topic and group, first and last
// failure time) and the original is acked. Invariants: a failed message never blocks the ones behind it
// (it leaves the group's queue either way); a message is acked only after its dead letter is stored.
//
// Guarantee: at-least-once into the DLQ (a crash between the two steps stores it twice).

import { HEADER, withHeaders } from "../envelope/envelope.ts";
import { CircuitOpenError } from "../errors.ts";
import type { TransportMessage } from "../transports/transport.ts";
import type { ConsumeContext, Middleware } from "./context.ts";

/** How many lines of a stack a dead letter keeps: the head says where, the rest is noise in a header. */
const STACK_LINES = 6;
const ERROR_CHARS_MAX = 2_000;

export interface DeadLetterHooks {
  readonly onDeadLetter?: (error: unknown) => void;
}

/**
 * Header values carry no line breaks (NATS refuses them, and other protocols' tools show them badly):
 * `%`, CR and LF are percent-encoded in the error and stack headers, and decoded when read.
 */
function headerSafe(v: string): string {
  return v.replace(/[%\r\n]/gu, (c) => (c === "%" ? "%25" : c === "\r" ? "%0D" : "%0A"));
}

function fromHeader(v: string | undefined): string {
  return (v ?? "").replace(/%(25|0D|0A)/gu, (_, c: string) => (c === "25" ? "%" : c === "0D" ? "\r" : "\n"));
}

export function describeError(error: unknown): { name: string; message: string; stack: string } {
  if (error instanceof Error) {
    const stack = (error.stack ?? "").split("\n").slice(0, STACK_LINES).join("\n");
    return { name: error.name, message: error.message.slice(0, ERROR_CHARS_MAX), stack };
  }
  return { name: "Error", message: String(error).slice(0, ERROR_CHARS_MAX), stack: "" };
}

/** The dead letter of the delivery `ctx` holds, failed for good with `error`. */
function deadLetterOf(ctx: ConsumeContext, error: unknown): TransportMessage {
  const now = ctx.clock.nowMs();
  const e = describeError(error);
  return withHeaders(ctx.delivery.message, {
    [HEADER.error]: headerSafe(e.message),
    [HEADER.errorName]: headerSafe(e.name),
    [HEADER.stack]: headerSafe(e.stack),
    [HEADER.attempts]: String(ctx.attempt),
    [HEADER.topic]: ctx.topic,
    [HEADER.group]: ctx.group,
    [HEADER.firstFailureMs]: String(ctx.firstFailureMs ?? now),
    [HEADER.lastFailureMs]: String(now),
    [HEADER.deadLetteredMs]: String(now),
  });
}

/** Sends a message whose handling failed for good to `queue`, then acks it. */
export function deadLetterMiddleware(queue: string, hooks: DeadLetterHooks = {}): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (error instanceof CircuitOpenError || ctx.signal.aborted) throw error;
      await deadLetter(ctx, queue, error, hooks);
    }
  };
}

/** Stores the message's dead letter in `queue`, then acks it: a crash in between redelivers, never loses. */
export async function deadLetter(
  ctx: ConsumeContext,
  queue: string,
  error: unknown,
  hooks: DeadLetterHooks,
): Promise<void> {
  const dead = deadLetterOf(ctx, error);
  await ctx.settle("dead_letter", async () => {
    await ctx.transport.send(queue, dead);
    await ctx.delivery.ack();
  });
  ctx.outcome = "dead-lettered";
  hooks.onDeadLetter?.(error);
}

/** A dead letter as `bus.deadLetters()` lists it. */
export interface DeadLetter {
  readonly id: string;
  readonly topic: string;
  readonly group: string;
  readonly error: { readonly name: string; readonly message: string; readonly stack: string };
  readonly attempts: number;
  readonly firstFailureMs: number;
  readonly lastFailureMs: number;
  readonly deadLetteredMs: number;
  /** The message as it was published (with the dead-letter headers). */
  readonly message: TransportMessage;
}

export function readDeadLetter(m: TransportMessage): DeadLetter {
  const h = m.headers;
  return {
    id: m.attributes.id,
    topic: h[HEADER.topic] ?? "",
    group: h[HEADER.group] ?? "",
    error: {
      name: fromHeader(h[HEADER.errorName] ?? "Error"),
      message: fromHeader(h[HEADER.error]),
      stack: fromHeader(h[HEADER.stack]),
    },
    attempts: Number(h[HEADER.attempts] ?? 0),
    firstFailureMs: Number(h[HEADER.firstFailureMs] ?? 0),
    lastFailureMs: Number(h[HEADER.lastFailureMs] ?? 0),
    deadLetteredMs: Number(h[HEADER.deadLetteredMs] ?? 0),
    message: m,
  };
}

/** The message to send back to its group: the SDK's retry and dead-letter headers removed. */
export function revived(m: TransportMessage): TransportMessage {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers)) if (!k.startsWith("x-spindle-")) headers[k] = v;
  return { ...m, headers };
}
