// `spindle topics list|create|describe|delete` over the streams API's /api/topics.
// Invariant: create is idempotent as the API is (an existing topic with the same partition count is fine).

import { Command, Option } from "commander";
import { type AdminEnv, action, collect, common, intOption, pairs } from "./command.ts";
import { keyValues, table } from "./output.ts";
import { topicPath, topicWhat } from "./paths.ts";

interface TopicSummary {
  readonly name: string;
  readonly partitions: number;
  readonly messages?: number;
  readonly internal?: boolean;
}

export interface TopicDetail {
  readonly name: string;
  readonly configs?: Record<string, unknown>;
  readonly partitions: ReadonlyArray<{
    readonly partition: number;
    readonly start_offset: number;
    readonly end_offset: number;
    readonly messages?: number;
  }>;
}

export function topicsCommand(env: AdminEnv): Command {
  const group = new Command("topics").description("list, create, describe and delete topics (streams)");
  group.addCommand(listCommand(env));
  group.addCommand(createCommand(env));
  group.addCommand(describeCommand(env));
  group.addCommand(deleteCommand(env));
  return group;
}

function listCommand(env: AdminEnv): Command {
  const cmd = common(new Command("list").description("every topic"));
  return action(cmd, env, async (ctx) => {
    const topics = await ctx.client.get<TopicSummary[]>("/api/topics");
    ctx.result(topics, () =>
      table(topics, [
        { header: "name", get: (t) => t.name },
        { header: "partitions", get: (t) => t.partitions },
        { header: "messages", get: (t) => t.messages },
      ]),
    );
  });
}

function createCommand(env: AdminEnv): Command {
  const cmd = common(
    new Command("create")
      .description("create a topic (an existing one with the same partition count is not an error)")
      .argument("<name>", "topic name")
      .addOption(
        new Option("-p, --partitions <n>", "partition count (default: the broker's)").argParser(intOption(1)),
      )
      .addOption(
        new Option("-c, --config <key=value>", "topic config, repeatable, e.g. retention.ms=86400000")
          .argParser(collect)
          .default([]),
      ),
  );
  return action(cmd, env, async (ctx, [name]) => {
    // Kafka's configs are strings on the wire and in the API.
    const configs = pairs(ctx.opts.config as string[], "--config", false);
    const body = { partitions: ctx.opts.partitions as number | undefined, configs };
    const answer = await ctx.client.request("PUT", topicPath(name!), { body });
    const created = answer.status === 201;
    ctx.result({ name, created }, () => [`${created ? "created" : "exists:"} topic ${JSON.stringify(name)}`]);
  });
}

function describeCommand(env: AdminEnv): Command {
  const cmd = common(
    new Command("describe").description("a topic's configs and partitions").argument("<name>", "topic name"),
  );
  return action(cmd, env, async (ctx, [name]) => {
    const topic = await ctx.client.get<TopicDetail>(topicPath(name!), { what: topicWhat(name!) });
    ctx.result(topic, () => [
      ...keyValues([["name", topic.name], ...Object.entries(topic.configs ?? {})]),
      "",
      ...table(topic.partitions, [
        { header: "partition", get: (p) => p.partition },
        { header: "start_offset", get: (p) => p.start_offset },
        { header: "end_offset", get: (p) => p.end_offset },
        { header: "messages", get: (p) => p.messages },
      ]),
    ]);
  });
}

function deleteCommand(env: AdminEnv): Command {
  const cmd = common(
    new Command("delete").description("delete a topic and its records").argument("<name>", "topic name"),
  );
  return action(cmd, env, async (ctx, [name]) => {
    await ctx.client.delete(topicPath(name!), { what: topicWhat(name!) });
    ctx.result({ deleted: name }, () => [`deleted topic ${JSON.stringify(name)}`]);
  });
}
