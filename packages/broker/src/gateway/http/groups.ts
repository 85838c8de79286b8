// Streams over HTTP, consumer groups: list with state and lag, describe with members and per-partition lag,
// reset offsets (earliest, latest, timestamp, offset) and delete. Invariant: a group with live members is
// neither reset nor deleted (409: its consumers would overwrite or lose the change); a reset is durable when answered.

import type { Context } from "hono";
import { Hono } from "hono";
import { BrokerError } from "../../lib/index.ts";
import {
  type CommittedOffset,
  type GroupError,
  groupLag,
  type Partition,
  type Topic,
  totalLag,
} from "../../streams/index.ts";
import type { HttpContext } from "./context.ts";
import { httpError, jsonBody } from "./errors.ts";
import { offsetRows, showMember } from "./group-view.ts";
import { badRequest, intValue, stringField } from "./params.ts";

const RESET_TO = ["earliest", "latest", "timestamp", "offset"] as const;
type ResetTo = (typeof RESET_TO)[number];

function groupFailure(
  c: Context,
  ctx: HttpContext,
  groupId: string,
  error: GroupError,
  doing: string,
): Response {
  switch (error) {
    case "NON_EMPTY_GROUP": {
      const n = ctx.streams.groups.find(groupId)?.size ?? 0;
      return httpError(
        c,
        409,
        `consumer group ${groupId} has ${n} active member(s); stop its consumers before you ${doing}`,
      );
    }
    case "GROUP_ID_NOT_FOUND":
      return httpError(c, 404, `consumer group ${groupId} does not exist`);
    case "COORDINATOR_NOT_AVAILABLE":
      return httpError(
        c,
        503,
        `consumer group ${groupId}: could not ${doing} now (the disk may be full); retry`,
      );
    default:
      return httpError(c, 409, `consumer group ${groupId}: could not ${doing} (${error})`);
  }
}

function describeGroup(ctx: HttpContext, groupId: string) {
  const { topics, groups } = ctx.streams;
  const g = groups.find(groupId);
  const members = g === undefined ? [] : g.describe().map((m) => showMember(g, m));
  const assigned = members.flatMap((m) => m.assignment ?? []);
  const committed = groupLag(topics, groups, groupId);
  const listing = groups.list().find((l) => l.groupId === groupId);
  return {
    group_id: groupId,
    state: g?.state ?? "Empty",
    protocol_type: listing?.protocolType ?? "consumer",
    protocol: g?.protocolName ?? "",
    members,
    offsets: offsetRows(
      committed,
      assigned,
      (tp) => topics.partition(tp.topic, tp.partition)?.endOffset ?? null,
    ),
  };
}

/** The offset a reset moves one partition to: clamped into what the partition holds, as kafka-consumer-groups. */
async function resetTarget(p: Partition, to: ResetTo, timestamp: number, offset: number): Promise<number> {
  switch (to) {
    case "earliest":
      return p.startOffset;
    case "latest":
      return p.endOffset;
    case "timestamp":
      return (await p.offsetForTimestamp(timestamp))?.offset ?? p.endOffset;
    case "offset":
      return Math.min(Math.max(offset, p.startOffset), p.endOffset);
  }
}

/** The partitions a reset body names (all of the topic's when it names none). */
function resetPartitions(topic: Topic, given: unknown): Partition[] {
  if (given === undefined) return topic.partitions;
  if (!Array.isArray(given) || given.length === 0) {
    throw badRequest("partitions must be a non-empty array of partition numbers (leave it out for all)");
  }
  return given.map((v, i) => {
    const index = intValue(v, `partitions[${i}]`, 0) as number;
    const p = topic.partitions[index];
    if (p === undefined) {
      const last = topic.partitions.length - 1;
      throw new BrokerError("NOT_FOUND", `topic ${topic.def.name} has partitions 0 to ${last}, not ${index}`);
    }
    return p;
  });
}

async function resetOffsets(c: Context, ctx: HttpContext, groupId: string): Promise<Response> {
  const body = await jsonBody(c);
  if (body.topic === undefined)
    throw badRequest('name the topic whose offsets to reset: {"topic": …, "to": …}');
  const name = stringField(body, "topic");
  const to = body.to as ResetTo;
  if (!RESET_TO.includes(to)) {
    throw badRequest(`'to' must be one of ${RESET_TO.join(", ")}, not ${JSON.stringify(body.to)}`);
  }
  const timestamp = intValue(body.timestamp, "timestamp", 0);
  const offset = intValue(body.offset, "offset", 0);
  if (to === "timestamp" && timestamp === undefined)
    throw badRequest('"to": "timestamp" needs "timestamp" (ms)');
  if (to === "offset" && offset === undefined) throw badRequest('"to": "offset" needs "offset"');
  const topic = ctx.streams.topics.get(name);
  if (topic === undefined) throw new BrokerError("NOT_FOUND", `topic ${name} does not exist`);
  const offsets: CommittedOffset[] = [];
  for (const p of resetPartitions(topic, body.partitions)) {
    const target = await resetTarget(p, to, timestamp ?? 0, offset ?? 0);
    offsets.push({ topic: name, partition: p.index, offset: target, metadata: null });
  }
  const error = await ctx.streams.groups.alterOffsets(groupId, offsets);
  if (error !== "NONE") return groupFailure(c, ctx, groupId, error, "reset its offsets");
  return c.json({
    offsets: offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })),
  });
}

export function groupRoutes(ctx: HttpContext): Hono {
  const { topics, groups } = ctx.streams;
  return new Hono()
    .get("/groups", (c) =>
      c.json(
        groups
          .list()
          .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
          .map((l) => ({
            group_id: l.groupId,
            state: l.state,
            protocol_type: l.protocolType,
            members: groups.find(l.groupId)?.size ?? 0,
            lag: totalLag(groupLag(topics, groups, l.groupId)),
          })),
      ),
    )
    .get("/groups/:id", (c) => {
      const groupId = c.req.param("id");
      if (!groups.exists(groupId))
        throw new BrokerError("NOT_FOUND", `consumer group ${groupId} does not exist`);
      return c.json(describeGroup(ctx, groupId));
    })
    .post("/groups/:id/reset-offsets", (c) => resetOffsets(c, ctx, c.req.param("id")))
    .delete("/groups/:id", async (c) => {
      const groupId = c.req.param("id");
      const error = await groups.delete(groupId);
      return error === "NONE" ? c.body(null, 204) : groupFailure(c, ctx, groupId, error, "delete it");
    });
}
