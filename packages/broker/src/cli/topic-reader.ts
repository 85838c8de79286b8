// Reading a topic's records through GET /api/topics/{name}/records, from kcat-style start offsets
// (beginning, end, N, -N from the end, s@MS by time) up to each partition's end at the time of the call.
// Invariant: partitions are read in order, each from its start to the end it had when reading began,
// and at most `count` records are yielded in all; a read that makes no progress ends that partition.

import { serverError, usageError } from "./errors.ts";
import type { ApiClient } from "./http-client.ts";
import { topicPath, topicWhat } from "./paths.ts";
import type { TopicDetail } from "./topics.ts";

export interface TopicRecord {
  readonly partition: number;
  readonly offset: number;
  readonly timestamp?: number;
  readonly key?: string | null;
  readonly key_encoding?: string;
  readonly headers?: Record<string, unknown>;
  readonly value?: string | null;
  readonly value_encoding?: string;
}

interface RecordsPage {
  readonly records: TopicRecord[];
  readonly next_offset: number;
}

export type StartOffset =
  | { readonly kind: "beginning" }
  | { readonly kind: "end" }
  | { readonly kind: "offset"; readonly offset: number }
  | { readonly kind: "fromEnd"; readonly back: number }
  | { readonly kind: "timestamp"; readonly ms: number };

/** kcat's `-o`: beginning, end, N, -N (N before the end), s@MS (the first record at or after MS). */
export function parseStartOffset(s: string): StartOffset {
  if (s === "beginning") return { kind: "beginning" };
  if (s === "end") return { kind: "end" };
  const at = /^s@(\d+)$/.exec(s);
  if (at !== null) return { kind: "timestamp", ms: Number(at[1]) };
  if (/^-\d+$/.test(s)) return { kind: "fromEnd", back: -Number(s) };
  if (/^\d+$/.test(s)) return { kind: "offset", offset: Number(s) };
  throw usageError(
    `-o ${JSON.stringify(s)}: expected beginning, end, an offset N, -N (N before the end) or s@MS`,
  );
}

const PAGE_MAX = 500;

export interface ReadOptions {
  readonly partition?: number;
  readonly from: StartOffset;
  /** at most this many records in all (undefined: up to the end) */
  readonly count?: number;
}

export async function* readTopic(
  client: ApiClient,
  topic: string,
  opts: ReadOptions,
): AsyncGenerator<TopicRecord> {
  const detail = await client.get<TopicDetail>(topicPath(topic), { what: topicWhat(topic) });
  const partitions = detail.partitions.filter(
    (p) => opts.partition === undefined || p.partition === opts.partition,
  );
  if (partitions.length === 0) {
    throw serverError(
      `topic ${JSON.stringify(topic)} has no partition ${opts.partition}; see spindle topics describe`,
    );
  }
  let left = opts.count ?? Number.POSITIVE_INFINITY;
  for (const p of partitions) {
    let position: { offset: number } | { timestamp: number } = startOf(
      opts.from,
      p.start_offset,
      p.end_offset,
    );
    while (left > 0) {
      if ("offset" in position && position.offset >= p.end_offset) break;
      const page: RecordsPage = await client.get(`${topicPath(topic)}/records`, {
        query: { partition: p.partition, ...position, limit: Math.min(PAGE_MAX, left) },
        what: topicWhat(topic),
      });
      for (const r of page.records) {
        if (left <= 0 || r.offset >= p.end_offset) break;
        left--;
        yield r;
      }
      const from = "offset" in position ? position.offset : Number.NEGATIVE_INFINITY;
      if (page.records.length === 0 && !(page.next_offset > from)) break;
      position = { offset: page.next_offset };
    }
  }
}

function startOf(from: StartOffset, start: number, end: number): { offset: number } | { timestamp: number } {
  switch (from.kind) {
    case "beginning":
      return { offset: start };
    case "end":
      return { offset: end };
    case "offset":
      return { offset: from.offset };
    case "fromEnd":
      return { offset: Math.max(start, end - from.back) };
    case "timestamp":
      return { timestamp: from.ms };
  }
}
