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
  /** bytes one group commit writes at most, so one huge burst does not delay every ack behind it */
  groupCommitBytesMax: 16 * 1024 * 1024,
  /** bytes waiting in an AMQP socket above which the connection's consumers pause until 'drain' */
  amqpSocketBacklogBytesMax: 1024 * 1024,
  /** a turn's AMQP output is written at once when it reaches this size: a busy turn must not hold back a
   *  consumer until it ends (only the socket's own buffer is a reason to wait) */
  amqpTurnOutputBytesMax: 256 * 1024,
  /** the first size of a connection's output buffer (it grows for a larger turn and is reused) */
  amqpOutboxBufferBytes: 64 * 1024,
  /** channels per AMQP connection offered in connection.tune (RabbitMQ: 2047) */
  amqpChannelsMax: 2047,
  /** largest AMQP frame offered in connection.tune (RabbitMQ: 128 KiB); checked before a frame is buffered */
  amqpFrameBytesMax: 131_072,
  /** body bytes one AMQP connection has published and the logs have not yet stored: reading pauses above it
   *  (credit flow: a publisher faster than the disk is slowed) */
  amqpUnstoredBytesMax: 64 * 1024 * 1024,
  /** bytes read from one AMQP connection in one event-loop turn before it is read again in the next one
   *  (fairness: libuv reads up to 2 MiB from one socket per turn) */
  amqpTurnInputBytesMax: 64 * 1024,
  /** recycled log read buffers kept idle for the next large read (log/read-buffers.ts) */
  readBuffersIdleBytesMax: 64 * 1024 * 1024,
  /** Kafka response bytes a client may leave unread before its requests stop being read */
  kafkaUnreadResponseBytesMax: 64 * 1024 * 1024,
  /** a Kafka fetch asking to wait longer than this gets an answer after this long anyway */
  kafkaFetchWaitMsMax: 30_000,
  /** committed offset metadata strings longer than this are refused (Kafka's offset.metadata.max.bytes) */
  kafkaOffsetMetadataBytesMax: 4096,
  /** a queue's append batch is written early once it holds this many bytes */
  queueAppendBatchBytesMax: 1024 * 1024,
  /** exchange names and routing keys whose encoded bytes are cached (they repeat from message to message) */
  encodedNamesMax: 4096,
  /** how much of its log a queue (or one priority lane) reads at a time */
  queueReadBytes: 256 * 1024,
  /** the read-through of a queue's log at start keeps nothing, so it reads in larger steps */
  queueRecoverReadBytes: 1024 * 1024,
  /** messages one peek at a queue (HTTP `GET …/messages`) returns at most */
  queuePeekMessagesMax: 1000,
  /** how much of its log one peek reads at most looking for matches (a filter that matches nothing in a
   *  long queue answers with a `next` position instead of reading it all) */
  queuePeekScanBytesMax: 4 * 1024 * 1024,
  /** a move (DLQ redrive) takes at most this many messages, or body bytes, out of the source at a time:
   *  each batch is stored in the destination, then settled in the source, then reported */
  queueMoveBatchMessages: 1000,
  queueMoveBatchBytesMax: 4 * 1024 * 1024,
  /** how much of an ack log is read at a time when it is replayed */
  ackLogReadBytes: 1024 * 1024,
  /** settled offsets gathered before the ack log is appended without waiting for its flush delay */
  ackLogFlushOffsetsMax: 8192,
  /** how much of a delayed exchange's log one index refill reads at a time */
  delayedRefillReadBytes: 1024 * 1024,
  /** append batches of a delayed exchange's log: held messages are released in due order, not offset order,
   *  and one not kept in memory is read back with its whole batch, so batches are kept small */
  delayedBatchBytesMax: 16 * 1024,
  /** partitions per topic at most: each is a log with its own files */
  partitionsPerTopicMax: 1000,
  /** records one page of the HTTP record browser holds at most (`limit`) */
  httpRecordsPageMax: 1000,
  /** key, value and header bytes of one record-browser page (one record always, however large): a page is
   *  held in memory and sent as JSON, base64 adding a third */
  httpRecordsPageBytesMax: 4 * 1024 * 1024,
  /** idempotent producers remembered per partition; the least recently used is forgotten first */
  producersPerPartitionMax: 10_000,
  /** body of one HTTP API request: a 16 MiB message in base64 in JSON, or a definitions file (RabbitMQ's
   *  max_http_body_size is 20 MB) */
  httpBodyBytesMax: 32 * 1024 * 1024,
  /** live data (`GET /api/stream`): events come at most this often, and at least this rarely */
  liveIntervalMsMin: 250,
  liveIntervalMsMax: 60_000,
  /** bytes of events one live-data client may leave unread before further events are dropped for it */
  liveClientBufferBytesMax: 1024 * 1024,
  /** a live-data client whose unread events have filled its buffer for this long is disconnected */
  liveClientBehindMsMax: 30_000,
} as const;
