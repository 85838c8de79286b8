// Streams over HTTP, records: browse a partition by offset or timestamp; produce records.
// Invariant: a browse page is bounded (LIMITS.httpRecordsPage*); a produce is answered only once every record
// is acknowledged by its partition's log (on disk under the default fsync policy), as a Kafka acks=all produce.

import { Hono } from "hono";
import { BrokerError, LIMITS } from "../../lib/index.ts";
import { Partitioner, produceRecords, readRecords, type Topic } from "../../streams/index.ts";
import type { HttpContext } from "./context.ts";
import { jsonBody } from "./errors.ts";
import { badRequest, intValue } from "./params.ts";
import { recordsToProduce } from "./record-input.ts";
import { showRecord } from "./record-view.ts";

const DEFAULT_PAGE = 100;

function requireTopic(ctx: HttpContext, name: string): Topic {
  const topic = ctx.streams.topics.get(name);
  if (topic === undefined) throw new BrokerError("NOT_FOUND", `topic ${name} does not exist`);
  return topic;
}

export function recordRoutes(ctx: HttpContext): Hono {
  const partitioner = new Partitioner();
  return new Hono()
    .get("/topics/:name/records", async (c) => {
      const topic = requireTopic(ctx, c.req.param("name"));
      const q = c.req.query();
      const index = intValue(q.partition, "partition", 0) ?? 0;
      const p = topic.partitions[index];
      if (p === undefined) {
        const count = topic.partitions.length;
        throw new BrokerError(
          "NOT_FOUND",
          `topic ${topic.def.name} has partitions 0 to ${count - 1}, not ${index}`,
        );
      }
      const offset = intValue(q.offset, "offset", 0);
      const timestamp = intValue(q.timestamp, "timestamp", 0);
      if (offset !== undefined && timestamp !== undefined)
        throw badRequest("give offset or timestamp, not both");
      const limit = intValue(q.limit, "limit", 1, LIMITS.httpRecordsPageMax) ?? DEFAULT_PAGE;
      const range = { start_offset: p.startOffset, end_offset: p.endOffset };
      let from = offset ?? p.startOffset;
      if (timestamp !== undefined) {
        const found = await p.offsetForTimestamp(timestamp);
        if (found === null) return c.json({ records: [], next_offset: p.endOffset, ...range });
        from = found.offset;
      }
      const page = await readRecords(p, from, limit, LIMITS.httpRecordsPageBytesMax);
      return c.json({
        records: page.records.map((r) => showRecord(index, r)),
        next_offset: page.nextOffset,
        ...range,
      });
    })
    .post("/topics/:name/records", async (c) => {
      const topic = requireTopic(ctx, c.req.param("name"));
      const records = recordsToProduce(await jsonBody(c));
      const offsets = await produceRecords(topic, records, {
        partitioner,
        traffic: ctx.streams.traffic,
        nowMs: ctx.clock.nowMs(),
      });
      return c.json({ offsets });
    });
}
