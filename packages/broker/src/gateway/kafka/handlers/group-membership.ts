// FindCoordinator, JoinGroup, SyncGroup, Heartbeat and LeaveGroup: the classic group protocol's wire side.
// Invariant: this broker coordinates every group; outcomes come from streams/Group, mapped one to one.

import { KafkaErrorCode, kafkaApis } from "@spindle/protocol";
import { KAFKA_GROUP_ERROR } from "../error-map.ts";
import { defineHandler } from "../handler.ts";

const GROUP_KEY = 0;
/** this broker is also every transactional id's coordinator */
const TRANSACTION_KEY = 1;

const NO_NODE = { nodeId: -1, host: "", port: -1 };

function coordinatorError(keyType: number): { errorCode: number; errorMessage: string | null } {
  if (keyType === GROUP_KEY || keyType === TRANSACTION_KEY)
    return { errorCode: KafkaErrorCode.NONE, errorMessage: null };
  return {
    errorCode: KafkaErrorCode.INVALID_REQUEST,
    errorMessage: `unknown coordinator key type ${keyType}`,
  };
}

export const findCoordinatorHandler = defineHandler(kafkaApis[10], 0, 4, (req, ctx) => {
  const { nodeId } = ctx.broker;
  const { errorCode, errorMessage } = coordinatorError(req.keyType ?? GROUP_KEY);
  // an error answer names no coordinator, as Kafka's does
  const at = errorCode === KafkaErrorCode.NONE ? { nodeId, host: ctx.host, port: ctx.port } : NO_NODE;
  const coordinators = (req.coordinatorKeys ?? []).map((key) => ({ key, ...at, errorCode, errorMessage }));
  return { throttleTimeMs: 0, errorCode, errorMessage, ...at, coordinators };
});

export const joinGroupHandler = defineHandler(kafkaApis[11], 0, 7, async (req, ctx) => {
  const fail = (errorCode: number) => ({
    throttleTimeMs: 0,
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: "",
    skipAssignment: false,
    memberId: req.memberId,
    members: [],
  });
  if (req.groupId === "") return fail(KafkaErrorCode.INVALID_GROUP_ID);
  const r = await ctx.broker.groups.group(req.groupId).join({
    memberId: req.memberId,
    groupInstanceId: req.groupInstanceId ?? null,
    clientId: ctx.header.clientId ?? "",
    clientHost: `/${ctx.remoteHost}`,
    sessionTimeoutMs: req.sessionTimeoutMs,
    // v0 has no rebalance timeout (the decoder gives -1): Kafka uses the session timeout then.
    rebalanceTimeoutMs:
      ctx.version >= 1 && (req.rebalanceTimeoutMs ?? -1) > 0
        ? (req.rebalanceTimeoutMs ?? 0)
        : req.sessionTimeoutMs,
    protocolType: req.protocolType,
    protocols: req.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
  });
  return {
    throttleTimeMs: 0,
    errorCode: KAFKA_GROUP_ERROR[r.error],
    generationId: r.generationId,
    protocolType: r.protocolType,
    protocolName: ctx.version < 7 ? (r.protocolName ?? "") : r.protocolName,
    leader: r.leader,
    skipAssignment: false,
    memberId: r.memberId,
    members: r.members,
  };
});

export const syncGroupHandler = defineHandler(kafkaApis[14], 0, 5, async (req, ctx) => {
  const g = ctx.broker.groups.find(req.groupId);
  const r = g
    ? await g.sync(req.generationId, req.memberId, req.assignments)
    : {
        error: "UNKNOWN_MEMBER_ID" as const,
        protocolType: null,
        protocolName: null,
        assignment: Buffer.alloc(0),
      };
  return {
    throttleTimeMs: 0,
    errorCode: KAFKA_GROUP_ERROR[r.error],
    protocolType: r.protocolType,
    protocolName: r.protocolName,
    assignment: r.assignment,
  };
});

export const heartbeatHandler = defineHandler(kafkaApis[12], 0, 4, (req, ctx) => {
  const g = ctx.broker.groups.find(req.groupId);
  const error = g ? g.heartbeat(req.generationId, req.memberId) : "UNKNOWN_MEMBER_ID";
  return { throttleTimeMs: 0, errorCode: KAFKA_GROUP_ERROR[error] };
});

export const leaveGroupHandler = defineHandler(kafkaApis[13], 0, 5, (req, ctx) => {
  const g = ctx.broker.groups.find(req.groupId);
  // Before v3 the request names one member; the decoder fills `members` with [] there.
  const leavers =
    ctx.version >= 3 ? (req.members ?? []) : [{ memberId: req.memberId ?? "", groupInstanceId: null }];
  const members = leavers.map((m) => ({
    memberId: m.memberId,
    groupInstanceId: m.groupInstanceId,
    errorCode: KAFKA_GROUP_ERROR[g ? g.leave(m.memberId, m.groupInstanceId) : "UNKNOWN_MEMBER_ID"],
  }));
  const errorCode = ctx.version < 3 ? (members[0]?.errorCode ?? KafkaErrorCode.NONE) : KafkaErrorCode.NONE;
  return { throttleTimeMs: 0, errorCode, members };
});
