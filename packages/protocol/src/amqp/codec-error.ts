// AmqpCodecError: the one error the AMQP codecs throw for bad bytes from the network.
// Invariant: every decode failure carries the AMQP reply code the connection must close with.
import { type COMMAND_INVALID, FRAME_ERROR, SYNTAX_ERROR } from "./generated/constants.ts";

/** Reply codes a codec failure maps to: 501 framing, 502 bad field values, 503 unknown method. */
export type CodecReplyCode = typeof FRAME_ERROR | typeof SYNTAX_ERROR | typeof COMMAND_INVALID;

export class AmqpCodecError extends Error {
  override readonly name = "AmqpCodecError";
  constructor(
    readonly replyCode: CodecReplyCode,
    message: string,
  ) {
    super(message);
  }
}

export function frameError(message: string): AmqpCodecError {
  return new AmqpCodecError(FRAME_ERROR, message);
}

export function syntaxError(message: string): AmqpCodecError {
  return new AmqpCodecError(SYNTAX_ERROR, message);
}
