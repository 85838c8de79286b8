// DescribeCluster: this broker is the whole cluster and its controller.
// Invariant: the advertised address is the one the client reached, as in Metadata.

import { KafkaErrorCode, kafkaApis } from "@spindle/protocol";
import { defineHandler } from "../handler.ts";

export const describeClusterHandler = defineHandler(kafkaApis[60], 0, 1, (_req, ctx) => ({
  throttleTimeMs: 0,
  errorCode: KafkaErrorCode.NONE,
  errorMessage: null,
  endpointType: 1,
  clusterId: ctx.broker.clusterId,
  controllerId: ctx.broker.nodeId,
  brokers: [{ brokerId: ctx.broker.nodeId, host: ctx.host, port: ctx.port, rack: null }],
  clusterAuthorizedOperations: -2147483648,
}));
