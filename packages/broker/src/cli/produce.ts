// `spindle produce`: one record per line of stdin or of --file, to a topic through POST
// /api/topics/{name}/records in batches; `-K` splits a key off each line as kcat's -K does.
// Invariant: records are sent in line order, one batch at a time (each durable before the next is sent);
// a failure names how many records were produced before it.

import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Command, Option } from "commander";
import { type AdminEnv, action, common, intOption } from "./command.ts";
import { CliError, usageError } from "./errors.ts";
import { linesOf } from "./io.ts";
import { topicPath, topicWhat } from "./paths.ts";
import { progressBar } from "./progress.ts";

/** Bytes of values in one request: well under any request limit, large enough to amortise a round trip. */
const BATCH_BYTES_MAX = 1024 * 1024;

interface OutRecord {
  value: string;
  key?: string;
  partition?: number;
}

export function produceCommand(env: AdminEnv): Command {
  const cmd = common(
    new Command("produce")
      .description("produce one record per line of stdin (or of --file) to a topic")
      .requiredOption("-t, --topic <name>", "topic")
      .option("--file <path>", "read the lines from this file instead of stdin (progress bar on a terminal)")
      .option("-K, --key-delimiter <delim>", "split each line at the first delim: key before, value after")
      .addOption(new Option("-p, --partition <n>", "every record to this partition").argParser(intOption()))
      .addOption(new Option("--batch-size <n>", "records per request").argParser(intOption(1)).default(2000)),
  );
  return action(cmd, env, async (ctx) => {
    const topic = ctx.opts.topic as string;
    const file = ctx.opts.file as string | undefined;
    if (file === undefined && ctx.io.stdinIsTty)
      throw usageError("no records: pipe lines on stdin or give --file");
    const toRecord = recordMaker(
      ctx.opts.keyDelimiter as string | undefined,
      ctx.opts.partition as number | undefined,
    );
    const total = file === undefined ? 0 : await fileSize(file);
    const bar = progressBar(file === undefined ? null : ctx.io.progressTty, "producing", "B");
    const input = file === undefined ? ctx.io.stdin : createReadStream(file);
    let produced = 0;
    let bytesSent = 0; // of the file, counted by line (readline reads ahead of what is sent)
    const send = async (records: OutRecord[], bytes: number) => {
      try {
        await ctx.client.post(`${topicPath(topic)}/records`, { body: { records }, what: topicWhat(topic) });
      } catch (e) {
        if (e instanceof CliError)
          throw new CliError(`${e.message} (${produced} records produced before)`, e.exitCode);
        throw e;
      }
      produced += records.length;
      bytesSent += bytes;
      bar.update(bytesSent, total);
    };
    try {
      let batch: OutRecord[] = [];
      let batchBytes = 0;
      for await (const line of linesOf(input)) {
        batch.push(toRecord(line));
        batchBytes += Buffer.byteLength(line) + 1;
        if (batch.length >= (ctx.opts.batchSize as number) || batchBytes >= BATCH_BYTES_MAX) {
          await send(batch, batchBytes);
          batch = [];
          batchBytes = 0;
        }
      }
      if (batch.length > 0) await send(batch, batchBytes);
    } finally {
      bar.finish();
    }
    ctx.result({ topic, produced }, () => [
      `produced ${produced} record${produced === 1 ? "" : "s"} to topic ${JSON.stringify(topic)}`,
    ]);
  });
}

function recordMaker(
  delimiter: string | undefined,
  partition: number | undefined,
): (line: string) => OutRecord {
  if (delimiter === "") throw usageError("-K needs a delimiter, e.g. -K :");
  return (line) => {
    const r: OutRecord = { value: line };
    const at = delimiter === undefined ? -1 : line.indexOf(delimiter);
    if (at >= 0) {
      r.key = line.slice(0, at);
      r.value = line.slice(at + delimiter!.length);
    }
    if (partition !== undefined) r.partition = partition;
    return r;
  };
}

async function fileSize(path: string): Promise<number> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(path);
  } catch (e) {
    throw usageError(`--file ${JSON.stringify(path)}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (!st.isFile()) throw usageError(`--file ${JSON.stringify(path)} is not a file`);
  return st.size;
}
