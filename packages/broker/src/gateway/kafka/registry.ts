// The handler registry: which APIs this broker serves, keyed by apiKey; ApiVersions is built from it.
// Invariant: one handler per apiKey, and the advertised list is exactly this map.

import { KafkaErrorCode } from "@spindle/protocol";
import type { KafkaHandler } from "./handler.ts";
import { addPartitionsToTxnHandler } from "./handlers/add-partitions-to-txn.ts";
import { apiVersionsBody, apiVersionsHandler } from "./handlers/api-versions.ts";
import {
  alterConfigsHandler,
  describeConfigsHandler,
  incrementalAlterConfigsHandler,
} from "./handlers/configs.ts";
import { createPartitionsHandler } from "./handlers/create-partitions.ts";
import { createTopicsHandler } from "./handlers/create-topics.ts";
import { deleteRecordsHandler } from "./handlers/delete-records.ts";
import { deleteTopicsHandler } from "./handlers/delete-topics.ts";
import { describeClusterHandler } from "./handlers/describe-cluster.ts";
import { describeProducersHandler } from "./handlers/describe-producers.ts";
import { describeTransactionsHandler, listTransactionsHandler } from "./handlers/describe-transactions.ts";
import { addOffsetsToTxnHandler, endTxnHandler } from "./handlers/end-txn.ts";
import { fetchHandler } from "./handlers/fetch.ts";
import {
  deleteGroupsHandler,
  describeGroupsHandler,
  listGroupsHandler,
  offsetDeleteHandler,
} from "./handlers/group-admin.ts";
import {
  findCoordinatorHandler,
  heartbeatHandler,
  joinGroupHandler,
  leaveGroupHandler,
  syncGroupHandler,
} from "./handlers/group-membership.ts";
import { offsetCommitHandler, offsetFetchHandler } from "./handlers/group-offsets.ts";
import { initProducerIdHandler } from "./handlers/init-producer-id.ts";
import { listOffsetsHandler } from "./handlers/list-offsets.ts";
import { metadataHandler } from "./handlers/metadata.ts";
import { produceHandler } from "./handlers/produce.ts";
import { txnOffsetCommitHandler } from "./handlers/txn-offset-commit.ts";

const list: KafkaHandler[] = [
  produceHandler,
  fetchHandler,
  listOffsetsHandler,
  metadataHandler,
  apiVersionsHandler(() => HANDLERS.values()),
  createTopicsHandler,
  deleteTopicsHandler,
  deleteRecordsHandler,
  describeConfigsHandler,
  createPartitionsHandler,
  incrementalAlterConfigsHandler,
  alterConfigsHandler,
  describeClusterHandler,
  findCoordinatorHandler,
  joinGroupHandler,
  syncGroupHandler,
  heartbeatHandler,
  leaveGroupHandler,
  offsetCommitHandler,
  offsetFetchHandler,
  describeGroupsHandler,
  listGroupsHandler,
  deleteGroupsHandler,
  initProducerIdHandler,
  offsetDeleteHandler,
  addPartitionsToTxnHandler,
  addOffsetsToTxnHandler,
  endTxnHandler,
  txnOffsetCommitHandler,
  describeTransactionsHandler,
  listTransactionsHandler,
  describeProducersHandler,
];

export const HANDLERS: ReadonlyMap<number, KafkaHandler> = new Map(list.map((h) => [h.api.apiKey, h]));

/** The v0 ApiVersions body for a client that asked for a version we do not serve. */
export function apiVersionsFallback(): unknown {
  return apiVersionsBody(HANDLERS.values(), KafkaErrorCode.UNSUPPORTED_VERSION);
}
