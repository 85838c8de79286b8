// BrokerError codes → AMQP reply codes and scope, checked for completeness by the compiler.
// Invariant: every operating error a queue-model call can throw reaches the client as RabbitMQ would send it.

import * as amqp from "@spindle/protocol/amqp";
import { type BrokerError, type ErrorCode, isBrokerError } from "../../lib/index.ts";

export interface AmqpReply {
  readonly code: number;
  readonly scope: amqp.ReplyScope;
}

const ch = (code: number): AmqpReply => ({ code, scope: "channel" });
const conn = (code: number): AmqpReply => ({ code, scope: "connection" });

export const AMQP_ERROR_MAP: Record<ErrorCode, AmqpReply> = {
  LOG_FAILED: conn(amqp.INTERNAL_ERROR),
  LOG_CLOSED: conn(amqp.INTERNAL_ERROR),
  DISK_FULL: conn(amqp.RESOURCE_ERROR),
  CORRUPT_RECORD: conn(amqp.INTERNAL_ERROR),
  INVALID_RECORD: ch(amqp.PRECONDITION_FAILED),
  OFFSET_OUT_OF_RANGE: conn(amqp.INTERNAL_ERROR),
  MESSAGE_TOO_LARGE: ch(amqp.PRECONDITION_FAILED),
  LIMIT_EXCEEDED: conn(amqp.RESOURCE_ERROR),
  NOT_FOUND: ch(amqp.NOT_FOUND),
  ALREADY_EXISTS: ch(amqp.PRECONDITION_FAILED),
  INVALID_CONFIG: ch(amqp.PRECONDITION_FAILED),
  STORAGE_UNAVAILABLE: conn(amqp.INTERNAL_ERROR),
  PRECONDITION_FAILED: ch(amqp.PRECONDITION_FAILED),
  RESOURCE_LOCKED: ch(amqp.RESOURCE_LOCKED),
  ACCESS_REFUSED: ch(amqp.ACCESS_REFUSED),
  INVALID_NAME: ch(amqp.PRECONDITION_FAILED),
  INVALID_PARTITIONS: ch(amqp.PRECONDITION_FAILED),
  INVALID_REQUEST: conn(amqp.COMMAND_INVALID),
  // as RabbitMQ's "queue limit in vhost … is reached": 406 on the channel
  RESOURCE_LIMIT: ch(amqp.PRECONDITION_FAILED),
};

/** A protocol error raised by the gateway itself (a reply code not backed by a BrokerError). */
export class AmqpError extends Error {
  override readonly name = "AmqpError";
  constructor(
    readonly code: number,
    readonly scope: amqp.ReplyScope,
    message: string,
  ) {
    super(message);
  }
}

export const channelError = (code: number, message: string) => new AmqpError(code, "channel", message);
export const connectionError = (code: number, message: string) => new AmqpError(code, "connection", message);

const NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(amqp.REPLY_CODES).map(([c, v]) => [c, v.name]),
);

/** Turns any thrown value into the reply to send; unknown errors are 541 INTERNAL_ERROR. */
export function toReply(err: unknown): { code: number; scope: amqp.ReplyScope; text: string } {
  let code: number = amqp.INTERNAL_ERROR;
  let scope: amqp.ReplyScope = "connection";
  let message = err instanceof Error ? err.message : String(err);
  if (err instanceof AmqpError) ({ code, scope } = err);
  else if (isBrokerError(err)) ({ code, scope } = AMQP_ERROR_MAP[(err as BrokerError).code]);
  else if (err instanceof amqp.AmqpCodecError) {
    code = err.replyCode;
    scope = "connection";
  } else message = `internal error: ${message}`;
  // a shortstr: 255 bytes of UTF-8, and a name a client chose may make the text longer than that
  const text = amqp.truncateUtf8(`${NAMES[code] ?? "ERROR"} - ${message}`);
  return { code, scope, text };
}
