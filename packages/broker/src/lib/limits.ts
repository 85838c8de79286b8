// Every declared limit in one place, so a reviewer can see what the broker will allocate for a peer.
// Checks happen before allocation; the numbers are defaults that config may lower or raise.

export const LIMITS = {
  /** largest record batch the log accepts in one append */
  batchBytesMax: 100 * 1024 * 1024,
  /** appends waiting for the next group commit before append() pushes back */
  pendingAppendsMax: 100_000,
  /** bytes waiting for the next group commit before append() pushes back */
  pendingAppendBytesMax: 256 * 1024 * 1024,
  /** what one compressed batch may expand to when the broker must read its records */
  decompressedBatchBytesMax: 256 * 1024 * 1024,
  /** size of one meta change record */
  metaRecordBytesMax: 1024 * 1024,
  /** body of one AMQP message (RabbitMQ's default max_message_size is 16 MiB too) */
  amqpMessageBytesMax: 16 * 1024 * 1024,
  /** one Kafka request frame (the size prefix is checked before the body is allocated) */
  kafkaRequestBytesMax: 100 * 1024 * 1024,
  /** Kafka requests read from one connection but not yet answered before reading pauses */
  kafkaInflightRequestsMax: 64,
  /** open Kafka client connections; further ones are accepted and closed at once */
  kafkaConnectionsMax: 10_000,
  /** long-polling Kafka fetches parked at once across all connections */
  kafkaParkedFetchesMax: 10_000,
  /** messages one queue holds in memory read ahead of its log */
  queueReadAheadBytesMax: 32 * 1024 * 1024,
  /** messages held read ahead of their logs across all queues */
  queuesReadAheadBytesMax: 256 * 1024 * 1024,
  /** Kafka request frames being received or handled, by declared size, across all connections: a frame
   *  that does not fit waits unread (8 idle clients each 90 MB into a request held 720 MB) */
  kafkaRequestBytesInFlightMax: 256 * 1024 * 1024,
  /** a Kafka request must arrive whole this long after its first byte: trickling bytes does not extend it
   *  (clients give up on a request after 30 s, librdkafka after 60 s) */
  kafkaRequestReceiveMs: 60_000,
  /** Kafka's connections.max.idle.ms: a connection with no traffic either way is closed */
  kafkaConnectionIdleMs: 10 * 60_000,
  /** declared sizes of the AMQP bodies being assembled on one connection's channels (60 channels each
   *  15 MiB into a body held 900 MB); a publish past it closes its channel with 406 */
  amqpConnectionBodyBytesMax: 64 * 1024 * 1024,
  /** the same across all AMQP connections */
  amqpBodyBytesMax: 512 * 1024 * 1024,
  /** from connect until connection.open is answered (RabbitMQ's handshake_timeout); bytes do not extend it */
  amqpHandshakeMs: 10_000,
  /** while a resource alarm is raised, each Produce response asks the producer to wait this long
   *  (throttle_time_ms, honoured by kafkajs and librdkafka) and its connection is not read meanwhile */
  alarmProduceThrottleMs: 1000,
  /** how fast sealed segments are verified in the background, across all logs (a tenth of a slow disk) */
  verifyBytesPerSec: 32 * 1024 * 1024,
  /** how long after start the background verification begins, so that start-up is not slowed */
  verifyStartDelayMs: 2_000,
  /** file descriptors kept back from `ulimit -n` for the runtime, listeners, meta stores and short-lived
   *  opens (index files, directory fsyncs); at least this many, or 5% of the limit when that is more */
  fdReserveMin: 64,
  /** refused AMQP connections held open through their handshake to hear why (530); more are just closed */
  refusingConnectionsMax: 16,
  /** segment files kept open across all logs when no fd budget sets it (tests, tools) */
  logFilesOpenMax: 4096,
  /** held x-delay messages one delayed exchange indexes in memory (due time and offset; twice this at
   *  most); the others wait in its log until the index runs dry */
  delayIndexEntriesMax: 10_000,
  /** held messages one delayed exchange keeps in memory with its index (only ones published into the
   *  index; what a refill finds is read back when due) */
  delayBodiesBytesMax: 8 * 1024 * 1024,
} as const;
