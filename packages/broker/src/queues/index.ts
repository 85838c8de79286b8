// queues/: the AMQP queue model without wire types — exchanges, bindings, queues on logs, consumers.
// The gateway turns frames into calls here; nothing here knows about frames or sockets.
export type { QueueConsumer } from "./consumer.ts";
export { type Death, type DeathCodec, deadLetter } from "./dead-letter.ts";
export { DELAYED_TYPE, delayOf } from "./delayed.ts";
export { checkQueueEquivalent, exchangeInequivalence } from "./equivalence.ts";
export {
  type Args,
  type Binding,
  canonical,
  EXCHANGE_TYPES,
  Exchange,
  type ExchangeDef,
  type ExchangeType,
  isExchangeType,
} from "./exchange.ts";
export { headersMatch, topicMatches } from "./matching.ts";
export {
  createMessage,
  type HeadersOf,
  headersOnce,
  knownHeaders,
  type Message,
  type QueuedMessage,
} from "./message.ts";
export { MessageStats, type QueueCounters, queueCounters } from "./message-stats.ts";
export { type EnqueueResult, Queue, type QueueOptions, REJECTED } from "./queue.ts";
export { type MoveOptions, type MoveProgress, moveMessages } from "./queue-move.ts";
export { type PeekedMessage, type PeekOptions, type PeekPage, peekMessages } from "./queue-peek.ts";
export { type DeathReason, parseExpiration, parseQueuePolicy, type QueuePolicy } from "./queue-policy.ts";
export { QueueStore, type QueueStoreOptions } from "./queue-store.ts";
export { type QueueDeclare, VHOST, Vhost } from "./vhost.ts";
