// The `spindle` command line: parses argv with commander, runs `start`, maps failures to one stderr line.
// Invariant: `start`'s stdout gets the ready line (or help/version) and nothing else; every failure exits
// non-zero: 2 for a command line commander refused, 1 for a broker failure (admin commands: cli/errors.ts).

import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { isBrokerError } from "../lib/index.ts";
import { readyLine, startBroker } from "./broker.ts";
import {
  CONFIG_ENV_VAR,
  type ConfigKey,
  DEFAULTS,
  ENV_VARS,
  FLAGS,
  type RawConfig,
  resolveConfig,
} from "./config.ts";
import { isLoopbackHost } from "./exposure.ts";
import { createLogger } from "./logger.ts";

export type CliIo = {
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
};

const processIo: CliIo = {
  env: process.env,
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
};

const START_OPTIONS: ReadonlyArray<{ key: ConfigKey; arg: string; what: string }> = [
  { key: "dataDir", arg: "<dir>", what: "directory for all stored data" },
  { key: "host", arg: "<host>", what: "address every listener binds to" },
  { key: "amqpPort", arg: "<port>", what: "AMQP 0-9-1 port (0 picks a free port)" },
  { key: "kafkaPort", arg: "<port>", what: "Kafka port (0 picks a free port)" },
  { key: "httpPort", arg: "<port>", what: "HTTP port: REST API, console, /metrics (0 picks a free port)" },
  { key: "fsync", arg: "<mode>", what: "when appends reach disk: group, always, interval:MS or never" },
  { key: "autoCreateTopics", arg: "<bool>", what: "Kafka: create unknown topics on Metadata/Produce" },
  { key: "defaultPartitions", arg: "<n>", what: "Kafka: partitions of an auto-created topic" },
  { key: "kafkaMaxRequestBytes", arg: "<bytes>", what: "Kafka: largest request accepted" },
  {
    key: "logCleanerDedupeBufferSize",
    arg: "<bytes>",
    what: "Kafka: memory for the compaction key map; more keys are cleaned in passes (e.g. 32MiB)",
  },
  { key: "logCleanerBackoffMs", arg: "<ms>", what: "Kafka: pause between the log cleaner's checks" },
  {
    key: "logCleanerEnable",
    arg: "<bool>",
    what: "Kafka: clean compacted topics in the background (default true)",
  },
  {
    key: "diskFreeLimit",
    arg: "<bytes>",
    what: "AMQP: block publishers while the data dir's disk has less free space (e.g. 50MB, 1GB)",
  },
  {
    key: "memoryHighWatermark",
    arg: "<limit>",
    what: "AMQP: block publishers while RSS is above this fraction of memory (0..1) or size (e.g. 2GB)",
  },
  {
    key: "logLevel",
    arg: "<level>",
    what: "fatal, error, warn, info, debug, trace or silent (logs go to stderr)",
  },
  {
    key: "insecure",
    arg: "",
    what: "allow a --host other than loopback although no authentication is configured",
  },
  {
    key: "maxConnections",
    arg: "<n>",
    what: "client connections (AMQP + Kafka + HTTP) at once; auto = half of what ulimit -n leaves after a reserve",
  },
];

export function brokerVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version?: unknown;
  };
  return typeof pkg.version === "string" ? pkg.version : "unknown";
}

/** Resolves when the process is asked to stop; a second signal falls through to Node's default (exit). */
function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", on);
      process.off("SIGINT", on);
      resolve(signal);
    };
    process.on("SIGTERM", on);
    process.on("SIGINT", on);
  });
}

/** Runs the broker until SIGTERM/SIGINT; returns the exit code. */
async function runStart(raw: RawConfig, configFile: string | undefined, io: CliIo): Promise<number> {
  const config = resolveConfig({ argv: raw, configFile, env: io.env });
  const log = createLogger(config.logLevel);
  if (config.insecure && !isLoopbackHost(config.host)) {
    log.warn({ host: config.host }, "listening beyond loopback with no authentication (--insecure)");
  }
  const stop = nextStopSignal();
  const broker = await startBroker(config, log);
  io.stdout(readyLine(broker, process.pid));
  log.info({ addresses: broker.addresses, dataDir: config.dataDir, fsync: config.fsync }, "spindle started");
  const signal = await stop;
  log.info({ signal }, "shutting down");
  await broker.close();
  log.info("stopped");
  return 0;
}

/** The program; `start`'s action resolves to the exit code it hands to `done`. */
function buildProgram(io: CliIo, done: (code: number) => void): Command {
  const program = new Command("spindle")
    .description(
      "Spindle: a message broker for queues (AMQP 0-9-1) and streams (Kafka), with an HTTP API.\n" +
        "`spindle start` runs the broker; the other commands operate a running one over its HTTP API.",
    )
    .version(brokerVersion(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .exitOverride() // throw instead of exiting, so main() owns the exit code and the error line
    .configureOutput({ outputError: () => {} });
  const start = program
    .command("start")
    .description("start the broker (options also from env SPINDLE_* and a JSON file; argv > env > file)");
  for (const o of START_OPTIONS) {
    const help = `${o.what} (env ${ENV_VARS[o.key]}, default ${DEFAULTS[o.key]})`;
    start.addOption(new Option(o.arg === "" ? FLAGS[o.key] : `${FLAGS[o.key]} ${o.arg}`, help));
  }
  start.addOption(new Option("--config <file>", `JSON config file, keys camelCase (env ${CONFIG_ENV_VAR})`));
  start.action(async (opts: Record<string, string | undefined>) => {
    const raw: RawConfig = {};
    for (const o of START_OPTIONS) if (opts[o.key] !== undefined) raw[o.key] = opts[o.key];
    done(await runStart(raw, opts.config, io));
  });
  return program;
}

/** One line from a commander error, e.g. "unknown option '--hots' (Did you mean --host?)". */
function commanderLine(e: CommanderError): string {
  return e.message.replace(/^error: /, "").replace(/\s*\n\s*/g, " ");
}

function failureLine(e: unknown): string {
  if (isBrokerError(e)) return `spindle: ${e.message}`;
  if (e instanceof CommanderError) return `spindle: ${commanderLine(e)}; see spindle --help`;
  const err = e as Error;
  return `spindle: unexpected error: ${err?.stack ?? String(e)}`;
}

/** Exit code of a command line commander refused (spindle --help and --version exit 0). */
const USAGE_EXIT = 2;

/** Parses `argv` (as in process.argv) and runs the command; resolves to the process exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let exitCode = 0;
  const done = (code: number) => {
    exitCode = code;
  };
  try {
    const program = buildProgram(io, done);
    // The admin commands (HTTP API clients) load only when the command is not `start`: its start-up is measured.
    if (argv[2] !== "start") (await import("../cli/index.ts")).registerAdminCommands(program, io.env, done);
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError && e.exitCode === 0) return 0;
    if (e instanceof CommanderError && e.code === "commander.help") return USAGE_EXIT; // `spindle queues`
    io.stderr(failureLine(e));
    return e instanceof CommanderError ? USAGE_EXIT : 1;
  }
}
