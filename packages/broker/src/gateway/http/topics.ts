// Streams over HTTP, topics: list, describe, create (PUT, idempotent), delete, alter configs, add partitions.
// Invariant: each change goes through the Topics call that Kafka's CreateTopics, IncrementalAlterConfigs,
// CreatePartitions and DeleteTopics use, so names, config keys and values and partition counts are judged alike.

import { Hono } from "hono";
import { BrokerError } from "../../lib/index.ts";
import { applyConfigChanges, describeConfig, type Topic, type TopicConfig } from "../../streams/index.ts";
import type { HttpContext } from "./context.ts";
import { httpError, jsonBody } from "./errors.ts";
import { badRequest, intValue, objectValue } from "./params.ts";

type ConfigChange = readonly [name: string, value: string | null];

function configMap(config: TopicConfig): Record<string, string> {
  return Object.fromEntries(describeConfig(config).map((c) => [c.name, c.value]));
}

function messages(topic: Topic): number {
  let n = 0;
  for (const p of topic.partitions) n += p.endOffset - p.startOffset;
  return n;
}

function summary(topic: Topic) {
  return {
    name: topic.def.name,
    partitions: topic.partitions.length,
    messages: messages(topic),
    configs: configMap(topic.def.config),
    internal: false,
  };
}

function detail(topic: Topic) {
  return {
    name: topic.def.name,
    messages: messages(topic),
    configs: configMap(topic.def.config),
    partitions: topic.partitions.map((p) => ({
      partition: p.index,
      start_offset: p.startOffset,
      end_offset: p.endOffset,
      messages: p.endOffset - p.startOffset,
    })),
  };
}

/** `{"retention.ms": "…"}` as config changes: Kafka's string values (a number is taken as its text), null resets. */
function configChanges(body: Record<string, unknown> | undefined): ConfigChange[] {
  return Object.entries(body ?? {}).map(([name, v]) => {
    if (v === null || typeof v === "string") return [name, v] as const;
    if (typeof v === "number" && Number.isFinite(v)) return [name, String(v)] as const;
    throw new BrokerError(
      "INVALID_CONFIG",
      `${name}: the value must be a string, a number or null, not ${JSON.stringify(v)}`,
    );
  });
}

/** Why a PUT of an existing topic asks for something else than it is (RabbitMQ's `inequivalent arg`), or null. */
function inequivalence(topic: Topic, partitions: number | undefined, changes: ConfigChange[]): string | null {
  const name = topic.def.name;
  const arg = (what: string, received: unknown, current: unknown) =>
    `inequivalent arg '${what}' for topic '${name}': received '${received}' but current is '${current}'`;
  if (partitions !== undefined && partitions !== topic.def.partitions) {
    return `${arg("partitions", partitions, topic.def.partitions)}; POST /api/topics/${name}/partitions adds partitions`;
  }
  const current = configMap(topic.def.config);
  const wanted = configMap(applyConfigChanges(topic.def.config, changes));
  const differs = changes.find(([key]) => wanted[key] !== current[key]);
  if (differs !== undefined) {
    const [key] = differs;
    return `${arg(key, wanted[key], current[key])}; PUT /api/topics/${name}/configs changes it`;
  }
  return null;
}

function requireTopic(ctx: HttpContext, name: string): Topic {
  const topic = ctx.streams.topics.get(name);
  if (topic === undefined) throw new BrokerError("NOT_FOUND", `topic ${name} does not exist`);
  return topic;
}

export function topicRoutes(ctx: HttpContext): Hono {
  const { topics, groups } = ctx.streams;
  return new Hono()
    .get("/topics", (c) => c.json(topics.list().map(summary)))
    .get("/topics/:name", (c) => c.json(detail(requireTopic(ctx, c.req.param("name")))))
    .put("/topics/:name", async (c) => {
      const name = c.req.param("name");
      const body = await jsonBody(c);
      // partition counts and config values are judged by Topics, as for Kafka's CreateTopics
      const partitions = intValue(body.partitions, "partitions");
      const changes = configChanges(objectValue(body.configs, "configs"));
      const existing = topics.get(name);
      if (existing !== undefined) {
        const why = inequivalence(existing, partitions, changes);
        return why === null ? c.body(null, 204) : httpError(c, 400, why);
      }
      try {
        await topics.create(name, partitions ?? topics.opts.defaultPartitions, changes);
      } catch (e) {
        // a concurrent PUT created it first: PUT is idempotent
        if (e instanceof BrokerError && e.code === "ALREADY_EXISTS") return c.body(null, 204);
        throw e;
      }
      return c.body(null, 201);
    })
    .delete("/topics/:name", async (c) => {
      const name = c.req.param("name");
      await topics.delete(name);
      await groups.forgetTopic(name);
      return c.body(null, 204);
    })
    .put("/topics/:name/configs", async (c) => {
      const changes = configChanges(await jsonBody(c));
      await topics.alterConfig(c.req.param("name"), changes);
      return c.body(null, 204);
    })
    .post("/topics/:name/partitions", async (c) => {
      const body = await jsonBody(c);
      const count = intValue(body.count, "count");
      if (count === undefined) throw badRequest('give the new partition count as {"count": N}');
      await topics.addPartitions(c.req.param("name"), count);
      return c.body(null, 204);
    });
}
