// `spindle groups list|describe|reset-offsets` over the streams API's /api/groups.
// Invariant: reset-offsets takes exactly one target (earliest, latest, a timestamp or an offset); anything
// else is a usage error before a request is made.

import { Command, Option } from "commander";
import { type AdminEnv, action, common, intOption } from "./command.ts";
import { usageError } from "./errors.ts";
import { columnsOf, keyValues, table } from "./output.ts";
import { groupPath, groupWhat } from "./paths.ts";

interface GroupSummary {
  readonly group_id: string;
  readonly state?: string;
  readonly protocol_type?: string;
  readonly members?: number;
  readonly lag?: number;
}

interface GroupDetail {
  readonly group_id: string;
  readonly state?: string;
  readonly protocol_type?: string;
  readonly protocol?: string;
  readonly members: ReadonlyArray<{
    readonly member_id: string;
    readonly client_id?: string;
    readonly client_host?: string;
    readonly assignment?: ReadonlyArray<{ topic: string; partition: number }>;
  }>;
  readonly offsets: ReadonlyArray<Record<string, unknown>>;
}

export function groupsCommand(env: AdminEnv): Command {
  const group = new Command("groups").description("list and describe consumer groups, reset their offsets");
  group.addCommand(listCommand(env));
  group.addCommand(describeCommand(env));
  group.addCommand(resetCommand(env));
  return group;
}

function listCommand(env: AdminEnv): Command {
  const cmd = common(new Command("list").description("every consumer group"));
  return action(cmd, env, async (ctx) => {
    const groups = await ctx.client.get<GroupSummary[]>("/api/groups");
    ctx.result(groups, () =>
      table(groups, [
        { header: "group_id", get: (g) => g.group_id },
        { header: "state", get: (g) => g.state },
        { header: "protocol_type", get: (g) => g.protocol_type },
        { header: "members", get: (g) => g.members },
        { header: "lag", get: (g) => g.lag },
      ]),
    );
  });
}

function describeCommand(env: AdminEnv): Command {
  const cmd = common(
    new Command("describe")
      .description("a group's members and committed offsets")
      .argument("<group>", "group id"),
  );
  return action(cmd, env, async (ctx, [id]) => {
    const g = await ctx.client.get<GroupDetail>(groupPath(id!), { what: groupWhat(id!) });
    ctx.result(g, () => [
      ...keyValues([
        ["group_id", g.group_id],
        ["state", g.state],
        ["protocol", [g.protocol_type, g.protocol].filter(Boolean).join(" ")],
      ]),
      "",
      ...table(g.members, [
        { header: "member_id", get: (m) => m.member_id },
        { header: "client_id", get: (m) => m.client_id },
        { header: "client_host", get: (m) => m.client_host },
        {
          header: "assignment",
          get: (m) => (m.assignment ?? []).map((a) => `${a.topic}-${a.partition}`).join(" "),
        },
      ]),
      "",
      ...table(g.offsets, [
        { header: "topic", get: (o) => o.topic },
        { header: "partition", get: (o) => o.partition },
        { header: "committed_offset", get: (o) => o.committed_offset },
        { header: "end_offset", get: (o) => o.end_offset },
        { header: "lag", get: (o) => o.lag },
      ]),
    ]);
  });
}

function resetCommand(env: AdminEnv): Command {
  const cmd = common(
    new Command("reset-offsets")
      .description("set a group's committed offsets on a topic (the group must have no members)")
      .argument("<group>", "group id")
      .requiredOption("--topic <topic>", "the topic whose offsets to set")
      .option("--to-earliest", "to each partition's first offset")
      .option("--to-latest", "to each partition's end (skip everything there now)")
      .addOption(
        new Option(
          "--to-timestamp <ms>",
          "to the first record at or after this time (ms since epoch)",
        ).argParser(intOption()),
      )
      .addOption(new Option("--to-offset <n>", "to this offset").argParser(intOption()))
      .option("--partitions <list>", "only these partitions, e.g. 0,2 (default: all)"),
  );
  return action(cmd, env, async (ctx, [id]) => {
    const body = {
      topic: ctx.opts.topic,
      ...target(ctx.opts),
      partitions: partitionList(ctx.opts.partitions),
    };
    const answer = await ctx.client.post<unknown>(`${groupPath(id!)}/reset-offsets`, {
      body,
      what: groupWhat(id!),
    });
    ctx.result(answer, () => resultLines(answer));
  });
}

function target(opts: Record<string, unknown>): { to: string; timestamp?: number; offset?: number } {
  const chosen = [
    opts.toEarliest === true ? { to: "earliest" } : undefined,
    opts.toLatest === true ? { to: "latest" } : undefined,
    opts.toTimestamp !== undefined ? { to: "timestamp", timestamp: opts.toTimestamp as number } : undefined,
    opts.toOffset !== undefined ? { to: "offset", offset: opts.toOffset as number } : undefined,
  ].filter((t) => t !== undefined);
  if (chosen.length !== 1) {
    throw usageError("give exactly one of --to-earliest, --to-latest, --to-timestamp MS, --to-offset N");
  }
  return chosen[0]!;
}

function partitionList(list: unknown): number[] | undefined {
  if (typeof list !== "string") return undefined;
  return list.split(",").map((p) => {
    const n = Number(p.trim());
    if (p.trim() === "" || !Number.isSafeInteger(n) || n < 0) {
      throw usageError(`--partitions ${JSON.stringify(list)}: expected partition numbers like 0,2`);
    }
    return n;
  });
}

/** The new offsets as a table, whether the answer is the list or an object holding it. */
function resultLines(answer: unknown): string[] {
  const rows = Array.isArray(answer)
    ? answer
    : Object.values((answer ?? {}) as Record<string, unknown>).find((v) => Array.isArray(v));
  if (Array.isArray(rows)) return table(rows, columnsOf(rows));
  return keyValues(Object.entries((answer ?? {}) as Record<string, unknown>));
}
