// DescribeGroups, ListGroups, DeleteGroups, OffsetDelete: who is in which group; removing empty ones.
// Invariant: a group with live members is never deleted, nor its offsets (NON_EMPTY_GROUP).

import { KafkaErrorCode, kafkaApis } from "@spindle/protocol";
import { KAFKA_GROUP_ERROR } from "../error-map.ts";
import { defineHandler } from "../handler.ts";

export const describeGroupsHandler = defineHandler(kafkaApis[15], 0, 5, (req, ctx) => {
  const groups = req.groups.map((groupId) => {
    const g = ctx.broker.groups.find(groupId);
    const state = g?.state ?? (ctx.broker.groups.exists(groupId) ? "Empty" : "Dead");
    return {
      errorCode: KafkaErrorCode.NONE,
      groupId,
      groupState: state,
      protocolType: g?.protocolType ?? "",
      protocolData: g?.protocolName ?? "",
      members: (g?.describe() ?? []).map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: m.metadata,
        memberAssignment: m.assignment,
      })),
      authorizedOperations: -2147483648,
    };
  });
  return { throttleTimeMs: 0, groups };
});

export const listGroupsHandler = defineHandler(kafkaApis[16], 0, 4, (req, ctx) => {
  const states = req.statesFilter ?? [];
  const groups = ctx.broker.groups
    .list()
    .filter((g) => states.length === 0 || states.some((s) => s.toLowerCase() === g.state.toLowerCase()))
    .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state }));
  return { throttleTimeMs: 0, errorCode: KafkaErrorCode.NONE, groups };
});

export const deleteGroupsHandler = defineHandler(kafkaApis[42], 0, 2, async (req, ctx) => {
  const results = [];
  for (const groupId of req.groupsNames) {
    results.push({ groupId, errorCode: KAFKA_GROUP_ERROR[await ctx.broker.groups.delete(groupId)] });
  }
  return { throttleTimeMs: 0, results };
});

export const offsetDeleteHandler = defineHandler(kafkaApis[47], 0, 0, async (req, ctx) => {
  const list = req.topics.flatMap((t) =>
    t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex })),
  );
  const errorCode = KAFKA_GROUP_ERROR[await ctx.broker.groups.deleteOffsets(req.groupId, list)];
  return {
    errorCode,
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        errorCode: KafkaErrorCode.NONE,
      })),
    })),
  };
});
