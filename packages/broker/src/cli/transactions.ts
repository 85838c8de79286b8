// `spindle transactions list|describe` over the streams API's /api/transactions (what Kafka's
// kafka-transactions.sh list/describe show). Invariant: read-only; a state filter is checked by the broker.

import { Command } from "commander";
import { type AdminEnv, action, common } from "./command.ts";
import { keyValues, table } from "./output.ts";
import { transactionPath, transactionWhat } from "./paths.ts";

interface TxnSummary {
  readonly transactional_id: string;
  readonly state?: string;
  readonly producer_id?: number;
  readonly producer_epoch?: number;
  readonly timeout_ms?: number;
  readonly duration_ms?: number | null;
  readonly partitions?: number;
}

interface TxnDetail extends Omit<TxnSummary, "partitions"> {
  readonly started_ms?: number | null;
  readonly partitions: ReadonlyArray<Record<string, unknown>>;
  readonly groups?: readonly string[];
  readonly pending_offsets: ReadonlyArray<Record<string, unknown>>;
}

export function transactionsCommand(env: AdminEnv): Command {
  const cmd = new Command("transactions").description("list and describe Kafka transactional ids");
  cmd.addCommand(listCommand(env));
  cmd.addCommand(describeCommand(env));
  return cmd;
}

function listCommand(env: AdminEnv): Command {
  const cmd = common(
    new Command("list")
      .description("every transactional id and the state of its transaction")
      .option("--state <list>", "only these states, e.g. Ongoing,PrepareCommit"),
  );
  return action(cmd, env, async (ctx) => {
    const state = ctx.opts.state as string | undefined;
    const query = state === undefined ? "" : `?state=${encodeURIComponent(state)}`;
    const txns = await ctx.client.get<TxnSummary[]>(`/api/transactions${query}`);
    ctx.result(txns, () =>
      table(txns, [
        { header: "transactional_id", get: (t) => t.transactional_id },
        { header: "state", get: (t) => t.state },
        { header: "producer_id", get: (t) => t.producer_id },
        { header: "epoch", get: (t) => t.producer_epoch },
        { header: "partitions", get: (t) => t.partitions },
        { header: "duration_ms", get: (t) => t.duration_ms ?? "" },
      ]),
    );
  });
}

function describeCommand(env: AdminEnv): Command {
  const cmd = common(
    new Command("describe")
      .description("a transactional id: its open transaction's partitions, groups and offsets")
      .argument("<transactional-id>", "transactional id"),
  );
  return action(cmd, env, async (ctx, [id]) => {
    const t = await ctx.client.get<TxnDetail>(transactionPath(id!), { what: transactionWhat(id!) });
    ctx.result(t, () => [
      ...keyValues([
        ["transactional_id", t.transactional_id],
        ["state", t.state],
        ["producer", `${t.producer_id} epoch ${t.producer_epoch}`],
        ["timeout_ms", t.timeout_ms],
        ["duration_ms", t.duration_ms ?? ""],
        ["groups", (t.groups ?? []).join(" ")],
      ]),
      "",
      ...table(t.partitions, [
        { header: "topic", get: (p) => p.topic },
        { header: "partition", get: (p) => p.partition },
        { header: "first_offset", get: (p) => p.first_offset },
        { header: "last_stable_offset", get: (p) => p.last_stable_offset },
        { header: "end_offset", get: (p) => p.end_offset },
      ]),
      "",
      ...table(t.pending_offsets, [
        { header: "group_id", get: (o) => o.group_id },
        { header: "topic", get: (o) => o.topic },
        { header: "partition", get: (o) => o.partition },
        { header: "offset", get: (o) => o.offset },
      ]),
    ]);
  });
}
