// Every BrokerError code as a Kafka error code; the Record type makes the compiler reject a missing code.
// Invariant: an error a handler catches always becomes a per-partition/per-topic code, never a closed socket.

import { KafkaErrorCode } from "@spindle/protocol";
import { type ErrorCode, isBrokerError } from "../../lib/index.ts";
import type { GroupError, TxnError } from "../../streams/index.ts";

export const KAFKA_ERROR_FOR: Readonly<Record<ErrorCode, number>> = {
  LOG_FAILED: KafkaErrorCode.KAFKA_STORAGE_ERROR,
  LOG_CLOSED: KafkaErrorCode.NOT_LEADER_OR_FOLLOWER,
  // retriable for kafkajs, librdkafka and the Java client: a producer backs off and sends the batch again
  DISK_FULL: KafkaErrorCode.KAFKA_STORAGE_ERROR,
  CORRUPT_RECORD: KafkaErrorCode.CORRUPT_MESSAGE,
  INVALID_RECORD: KafkaErrorCode.INVALID_RECORD,
  OFFSET_OUT_OF_RANGE: KafkaErrorCode.OFFSET_OUT_OF_RANGE,
  MESSAGE_TOO_LARGE: KafkaErrorCode.MESSAGE_TOO_LARGE,
  LIMIT_EXCEEDED: KafkaErrorCode.THROTTLING_QUOTA_EXCEEDED,
  NOT_FOUND: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ALREADY_EXISTS: KafkaErrorCode.TOPIC_ALREADY_EXISTS,
  INVALID_CONFIG: KafkaErrorCode.INVALID_CONFIG,
  STORAGE_UNAVAILABLE: KafkaErrorCode.KAFKA_STORAGE_ERROR,
  INVALID_NAME: KafkaErrorCode.INVALID_TOPIC_EXCEPTION,
  INVALID_PARTITIONS: KafkaErrorCode.INVALID_PARTITIONS,
  INVALID_REQUEST: KafkaErrorCode.INVALID_REQUEST,
  PRECONDITION_FAILED: KafkaErrorCode.INVALID_REQUEST,
  RESOURCE_LOCKED: KafkaErrorCode.INVALID_REQUEST,
  ACCESS_REFUSED: KafkaErrorCode.TOPIC_AUTHORIZATION_FAILED,
  // Kafka's answer when a broker policy refuses a well-formed request; not retriable, message shown to users
  RESOURCE_LIMIT: KafkaErrorCode.POLICY_VIOLATION,
};

/** The Kafka code and message for anything a handler caught; unknown failures are UNKNOWN_SERVER_ERROR. */
export function kafkaError(e: unknown): { code: number; message: string } {
  if (isBrokerError(e)) return { code: KAFKA_ERROR_FOR[e.code], message: e.message };
  return { code: KafkaErrorCode.UNKNOWN_SERVER_ERROR, message: (e as Error)?.message ?? String(e) };
}

/** Consumer-group outcomes carry the protocol's own names; the Record keeps the map complete. */
export const KAFKA_GROUP_ERROR: Readonly<Record<GroupError, number>> = {
  NONE: KafkaErrorCode.NONE,
  UNKNOWN_MEMBER_ID: KafkaErrorCode.UNKNOWN_MEMBER_ID,
  ILLEGAL_GENERATION: KafkaErrorCode.ILLEGAL_GENERATION,
  REBALANCE_IN_PROGRESS: KafkaErrorCode.REBALANCE_IN_PROGRESS,
  INCONSISTENT_GROUP_PROTOCOL: KafkaErrorCode.INCONSISTENT_GROUP_PROTOCOL,
  INVALID_SESSION_TIMEOUT: KafkaErrorCode.INVALID_SESSION_TIMEOUT,
  INVALID_GROUP_ID: KafkaErrorCode.INVALID_GROUP_ID,
  NON_EMPTY_GROUP: KafkaErrorCode.NON_EMPTY_GROUP,
  GROUP_ID_NOT_FOUND: KafkaErrorCode.GROUP_ID_NOT_FOUND,
  FENCED_INSTANCE_ID: KafkaErrorCode.FENCED_INSTANCE_ID,
  COORDINATOR_NOT_AVAILABLE: KafkaErrorCode.COORDINATOR_NOT_AVAILABLE,
};

/** Transaction-coordinator outcomes, named after Kafka's errors; the Record keeps the map complete. */
export const KAFKA_TXN_ERROR: Readonly<Record<TxnError, number>> = {
  NONE: KafkaErrorCode.NONE,
  INVALID_PRODUCER_EPOCH: KafkaErrorCode.INVALID_PRODUCER_EPOCH,
  PRODUCER_FENCED: KafkaErrorCode.PRODUCER_FENCED,
  INVALID_TXN_STATE: KafkaErrorCode.INVALID_TXN_STATE,
  INVALID_PRODUCER_ID_MAPPING: KafkaErrorCode.INVALID_PRODUCER_ID_MAPPING,
  INVALID_TRANSACTION_TIMEOUT: KafkaErrorCode.INVALID_TRANSACTION_TIMEOUT,
  CONCURRENT_TRANSACTIONS: KafkaErrorCode.CONCURRENT_TRANSACTIONS,
  UNKNOWN_TOPIC_OR_PARTITION: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  COORDINATOR_NOT_AVAILABLE: KafkaErrorCode.COORDINATOR_NOT_AVAILABLE,
  TRANSACTIONAL_ID_NOT_FOUND: KafkaErrorCode.TRANSACTIONAL_ID_NOT_FOUND,
  ILLEGAL_GENERATION: KafkaErrorCode.ILLEGAL_GENERATION,
  UNKNOWN_MEMBER_ID: KafkaErrorCode.UNKNOWN_MEMBER_ID,
  FENCED_INSTANCE_ID: KafkaErrorCode.FENCED_INSTANCE_ID,
  REBALANCE_IN_PROGRESS: KafkaErrorCode.REBALANCE_IN_PROGRESS,
};

/**
 * A transaction outcome's code at a request version: PRODUCER_FENCED exists only from `fencedSince` on
 * (KIP-588); older clients get INVALID_PRODUCER_EPOCH, as Kafka answers them.
 */
export function txnErrorCode(e: TxnError, version: number, fencedSince: number): number {
  if (e === "PRODUCER_FENCED" && version < fencedSince) return KafkaErrorCode.INVALID_PRODUCER_EPOCH;
  return KAFKA_TXN_ERROR[e];
}
