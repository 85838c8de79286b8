// @spindle/sdk's public surface: connect(url) and everything an application names. Invariant: importing
// it loads no broker client; the transport for a URL is loaded when connect() sees the URL.

import { Bus, type ConnectOptions } from "./bus.ts";
import { systemClock } from "./lib/clock.ts";
import { MemoryInbox } from "./stores/memory-inbox.ts";
import { transportFor } from "./transports/registry.ts";

export type { ConnectOptions, Handler, HandlerContext, SubscribeOptions, Subscription } from "./bus.ts";
export { Bus } from "./bus.ts";

/** An inbox in process memory (tests; one process). */
export function memoryInbox(options: { maxEntries?: number } = {}): MemoryInbox {
  return new MemoryInbox(options.maxEntries);
}
export type { RedriveOptions, RedriveResult } from "./dead-letters.ts";
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
export {
  CircuitOpenError,
  ConflictError,
  HandlerTimeoutError,
  NonRetryableError,
  RedeliveryLimitError,
  RequestTimeoutError,
} from "./errors.ts";
export {
  aggregateStream,
  type CommandHandlerOptions,
  type CommandResult,
  commandHandler,
  type HandleOptions,
} from "./eventsourcing/command-handler.ts";
export { type Decider, type DomainEvent, fold } from "./eventsourcing/decider.ts";
export { type DeciderSpec, type DeciderThen, deciderSpec } from "./eventsourcing/decider-spec.ts";
export type {
  AppendOptions,
  AppendResult,
  EventHandler,
  EventOutboxOptions,
  EventStore,
  EventStoreOptions,
  EventSubscribeOptions,
  EventSubscription,
  ExpectedVersion,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  Snapshot,
  StoredEvent,
} from "./eventsourcing/event-store.ts";
export {
  MemoryEventStore,
  type MemoryEventStoreOptions,
  memoryEventStore,
} from "./eventsourcing/memory-event-store.ts";
export {
  PostgresEventStore,
  type PostgresEventStoreOptions,
  postgresEventStore,
} from "./eventsourcing/postgres-event-store.ts";
export {
  SqliteEventStore,
  type SqliteEventStoreOptions,
  sqliteEventStore,
} from "./eventsourcing/sqlite-event-store.ts";
export {
  DATA_VERSION_EXTENSION,
  Upcasters,
  type UpcastStep,
  type Versioned,
} from "./eventsourcing/upcasters.ts";
export { type Clock, systemClock, type TimerHandle } from "./lib/clock.ts";
export type { OutboxLayout, OutboxMessage } from "./outbox/outbox.ts";
export {
  type PgQueryable,
  PostgresOutbox,
  type PostgresOutboxOptions,
  postgresOutbox,
} from "./outbox/postgres-outbox.ts";
export { type OutboxMetrics, OutboxRelay, type Publisher, type RelayOptions } from "./outbox/relay.ts";
export {
  SqliteOutbox,
  type SqliteOutboxOptions,
  type SqliteRelayOptions,
  sqliteOutbox,
} from "./outbox/sqlite-outbox.ts";
export { DEFAULT_RETRY, type PipelineOptions } from "./pipeline/assemble.ts";
export {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitState,
  circuitBreakerMiddleware,
} from "./pipeline/circuit-breaker.ts";
export { Consumer, type ConsumerOptions } from "./pipeline/consumer.ts";
export {
  type ConsumeContext,
  compose,
  type Middleware,
  type Next,
  type Outcome,
} from "./pipeline/context.ts";
export { type DeadLetter, deadLetterMiddleware } from "./pipeline/dead-letter.ts";
export { type InboxStore, inboxMiddleware } from "./pipeline/inbox.ts";
export {
  type RateLimiter,
  type RateLimitOptions,
  rateLimit,
  rateLimitMiddleware,
  type SlidingWindowOptions,
  type TokenBucketOptions,
} from "./pipeline/rate-limit.ts";
export {
  type Jitter,
  type RetryOptions,
  type RetryPolicy,
  retry,
  retryMiddleware,
} from "./pipeline/retry.ts";
export type { SubscriptionStats } from "./pipeline/stats.ts";
export { timeoutMiddleware } from "./pipeline/timeout.ts";
export { tracingMiddleware } from "./pipeline/tracing.ts";
export {
  MemoryProjectionStore,
  memoryProjectionStore,
} from "./projections/memory-projection-store.ts";
export {
  PostgresProjectionStore,
  type PostgresProjectionStoreOptions,
  postgresProjectionStore,
} from "./projections/postgres-projection-store.ts";
export type { Projection, ProjectionStore } from "./projections/projection.ts";
export {
  type EventSource,
  type ProjectionLag,
  Projector,
  type ProjectorOptions,
  project,
} from "./projections/projector.ts";
export {
  SqliteProjectionStore,
  type SqliteProjectionStoreOptions,
  sqliteProjectionStore,
} from "./projections/sqlite-projection-store.ts";
export { RemoteError, type RequestOptions } from "./request-reply.ts";
export {
  type Reaction,
  type ReactionContext,
  type ReactionsOptions,
  reactions,
  SagaTimeouts,
  type SagaTimeoutsOptions,
  sagaTimeouts,
  type TimeoutEvent,
} from "./saga/choreography.ts";
export type { WaitOptions as SagaWaitOptions } from "./saga/end-waiters.ts";
export { MemorySagaStore, memorySagaStore } from "./saga/memory-saga-store.ts";
export {
  SagaOrchestrator,
  type SagaOrchestratorOptions,
  type StartSagaOptions,
  sagaOrchestrator,
} from "./saga/orchestrator.ts";
export {
  PostgresSagaStore,
  type PostgresSagaStoreOptions,
  postgresSagaStore,
} from "./saga/postgres-saga-store.ts";
export {
  defineSaga,
  type PendingCommand,
  type SagaCommand,
  type SagaContext,
  type SagaDefinition,
  type SagaEvent,
  type SagaHistoryEntry,
  type SagaState,
  type SagaStatus,
  type SagaStep,
} from "./saga/saga.ts";
export type { SagaQuery, SagaStore, SagaTimeout } from "./saga/saga-store.ts";
export { SqliteSagaStore, type SqliteSagaStoreOptions, sqliteSagaStore } from "./saga/sqlite-saga-store.ts";
export { MemoryInbox } from "./stores/memory-inbox.ts";
export { PostgresInbox, type PostgresInboxOptions, postgresInbox } from "./stores/postgres-inbox.ts";
export { SqliteInbox, type SqliteInboxOptions, sqliteInbox } from "./stores/sqlite-inbox.ts";
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
