// The options every admin command shares (--http-url, --user, --password, --vhost, --json) and the
// wrapper that runs a command's action. Invariant: an action's failure becomes one stderr line and its exit
// code (errors.ts); its results go to stdout as a table/lines or, with --json, as JSON.

import { type Command, InvalidArgumentError, Option } from "commander";
import { CliError, EXIT, type ExitCode, usageError } from "./errors.ts";
import { ApiClient } from "./http-client.ts";
import type { AdminIo } from "./io.ts";
import { jsonText } from "./output.ts";

const DEFAULT_HTTP_URL = "http://127.0.0.1:8080";
const HTTP_URL_ENV = "SPINDLE_HTTP_URL";

/** What registering a command needs: where it reads and writes, and how it hands over its exit code. */
export interface AdminEnv {
  readonly io: AdminIo;
  readonly done: (code: ExitCode) => void;
}

export interface Ctx {
  readonly client: ApiClient;
  readonly io: AdminIo;
  readonly json: boolean;
  readonly vhost: string;
  /** the command's own options, parsed by commander */
  readonly opts: Record<string, unknown>;
  /** a result on stdout: JSON with --json, else the lines `human` makes */
  result(value: unknown, human: () => readonly string[]): void;
}

/** Adds the shared options; `vhost` for the commands of the queue model. */
export function common(cmd: Command, opts: { vhost?: boolean } = {}): Command {
  cmd
    .addOption(
      new Option(
        "--http-url <url>",
        `the broker's HTTP API (env ${HTTP_URL_ENV}, default ${DEFAULT_HTTP_URL})`,
      ),
    )
    .addOption(new Option("--user <name>", "user for the HTTP API").default("guest"))
    .addOption(new Option("--password <password>", "password for the HTTP API").default("guest"))
    .addOption(new Option("--json", "print JSON for scripts instead of a table"));
  if (opts.vhost === true) cmd.addOption(new Option("--vhost <vhost>", "virtual host").default("/"));
  return cmd;
}

/** Sets `cmd`'s action: `fn` gets the context and the positional arguments. */
export function action(
  cmd: Command,
  env: AdminEnv,
  fn: (ctx: Ctx, args: readonly string[]) => Promise<void>,
): Command {
  return cmd.action(async (...received: unknown[]) => {
    const command = received.at(-1) as Command;
    const args = received.slice(0, -2).map((a) => a as string);
    env.done(await run(env.io, command.opts(), (ctx) => fn(ctx, args)));
  });
}

async function run(
  io: AdminIo,
  opts: Record<string, unknown>,
  fn: (ctx: Ctx) => Promise<void>,
): Promise<ExitCode> {
  try {
    const url = (opts.httpUrl as string | undefined) ?? nonEmpty(io.env[HTTP_URL_ENV]) ?? DEFAULT_HTTP_URL;
    const client = new ApiClient({ url, user: opts.user as string, password: opts.password as string });
    const json = opts.json === true;
    const lines = (ls: readonly string[]) => {
      for (const l of ls) io.write(`${l}\n`);
    };
    await fn({
      client,
      io,
      json,
      vhost: (opts.vhost as string | undefined) ?? "/",
      opts,
      result: (value, human) => (json ? lines([jsonText(value)]) : lines(human())),
    });
    return EXIT.ok;
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    io.error(`spindle: ${e.message}`);
    return e.exitCode;
  }
}

const nonEmpty = (s: string | undefined): string | undefined => (s === undefined || s === "" ? undefined : s);

/**
 * `k=v` pairs (repeatable options) to an object. With `typed`, a value that parses as JSON is taken as
 * JSON (x-message-ttl=60000 is a number); headers stay strings.
 */
export function pairs(
  list: readonly string[] | undefined,
  flag: string,
  typed: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw usageError(`${flag} ${JSON.stringify(item)}: expected key=value`);
    const value = item.slice(eq + 1);
    out[item.slice(0, eq)] = typed ? jsonOrString(value) : value;
  }
  return out;
}

function jsonOrString(s: string): unknown {
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return s;
  }
}

/** commander collector for repeatable options. */
export const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  value,
];

/** An integer option ≥ `min` (commander reports a bad one as a usage error). */
export function intOption(min = 0): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isSafeInteger(n) || n < min) {
      throw new InvalidArgumentError(`expected an integer ≥ ${min}`);
    }
    return n;
  };
}
