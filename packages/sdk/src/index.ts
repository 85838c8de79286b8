// @spindle/sdk's public surface: connect(url) and everything an application names. Invariant: importing
// it loads no broker client; the transport for a URL is loaded when connect() sees the URL.

import { Bus, type ConnectOptions } from "./bus.ts";
import { systemClock } from "./lib/clock.ts";
import { transportFor } from "./transports/registry.ts";

export type { ConnectOptions, Handler, HandlerContext, SubscribeOptions, Subscription } from "./bus.ts";
export { Bus } from "./bus.ts";
export { type BindingName, fromBinaryHeaders, toBinaryHeaders } from "./envelope/bindings.ts";
export { HEADER, type Message, type PublishOptions } from "./envelope/envelope.ts";
export {
  bufferSerializer,
  type DecodeContext,
  type EncodeContext,
  type Encoded,
  jsonSerializer,
  type Serializer,
  textSerializer,
} from "./envelope/serializers.ts";
export { CircuitOpenError, HandlerTimeoutError, NonRetryableError, RequestTimeoutError } from "./errors.ts";
export { type Clock, systemClock, type TimerHandle } from "./lib/clock.ts";
export type { ConsumeContext, Middleware, Next } from "./pipeline/context.ts";
export type * from "./transports/transport.ts";

/**
 * Connects to the broker `url` names: memory://NAME (in-process), embedded://DIR, amqp://…, kafka://…,
 * nats://…. The transport's client library is loaded now, not before.
 */
export async function connect(url: string, options: ConnectOptions = {}): Promise<Bus> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`connect: "${url}" is not a URL (try memory://test or amqp://localhost)`);
  }
  const factory = options.transport ?? (await transportFor(parsed));
  const transport = await factory({ url: parsed, clock: options.clock ?? systemClock });
  return new Bus(transport, options);
}
