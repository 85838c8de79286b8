// The broker's configuration: three raw layers (argv, env SPINDLE_*, JSON file) merged over defaults.
// Invariant: every value is validated in the layer it came from, and an error names that layer in one line.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
// zod/mini: the same checks as zod with a tenth of the code to load at every start.
import * as z from "zod/mini";
import { BrokerError } from "../lib/index.ts";
import { type FsyncPolicy, parseFsyncPolicy } from "../log/index.ts";
import { type MemoryWatermark, parseByteSize, parseMemoryWatermark } from "./byte-size.ts";
import { exposureRefusal } from "./exposure.ts";

/** pino's levels; `silent` logs nothing. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type BrokerConfig = {
  readonly dataDir: string;
  readonly host: string;
  readonly amqpPort: number;
  readonly kafkaPort: number;
  readonly httpPort: number;
  readonly fsync: FsyncPolicy;
  /** Kafka: create a topic on first Metadata/Produce that names it */
  readonly autoCreateTopics: boolean;
  /** Kafka: partitions of an auto-created topic */
  readonly defaultPartitions: number;
  /** Kafka: largest request frame accepted; the size prefix is checked before the body is read */
  readonly kafkaMaxRequestBytes: number;
  /** AMQP publishers are blocked while the data dir's filesystem has fewer free bytes than this */
  readonly diskFreeLimit: number;
  /** AMQP publishers are blocked while the process's RSS is above this */
  readonly memoryHighWatermark: MemoryWatermark;
  /** the least severe log level written to stderr */
  readonly logLevel: LogLevel;
  /** allow a non-loopback host although no authentication is configured */
  readonly insecure: boolean;
  /** client connections (AMQP + Kafka + HTTP) at once; "auto" derives it from the open-file limit */
  readonly maxConnections: number | "auto";
  /** Kafka: memory for the log cleaner's key map (compacted topics with more keys are cleaned in passes) */
  readonly logCleanerDedupeBufferSize: number;
  /** Kafka: pause between the log cleaner's checks of compacted topics */
  readonly logCleanerBackoffMs: number;
  /** Kafka: run the log cleaner over compacted topics (off until a SIGKILL data-loss report is resolved) */
  readonly logCleanerEnable: boolean;
};

export type ConfigKey = keyof BrokerConfig;

/** One layer's raw values, as typed by the user: strings from argv and env, anything from JSON. */
export type RawConfig = Partial<Record<ConfigKey, unknown>>;

export const CONFIG_KEYS = [
  "dataDir",
  "host",
  "amqpPort",
  "kafkaPort",
  "httpPort",
  "fsync",
  "autoCreateTopics",
  "defaultPartitions",
  "kafkaMaxRequestBytes",
  "diskFreeLimit",
  "memoryHighWatermark",
  "logLevel",
  "insecure",
  "maxConnections",
  "logCleanerDedupeBufferSize",
  "logCleanerBackoffMs",
  "logCleanerEnable",
] as const;

export const DEFAULTS = {
  dataDir: "./spindle-data",
  host: "127.0.0.1",
  amqpPort: 5672,
  kafkaPort: 9092,
  httpPort: 8080,
  fsync: "group",
  autoCreateTopics: true,
  defaultPartitions: 1,
  kafkaMaxRequestBytes: 104_857_600,
  diskFreeLimit: "50MB",
  memoryHighWatermark: 0.4,
  logLevel: "info",
  insecure: false,
  maxConnections: "auto",
  logCleanerDedupeBufferSize: "32MiB",
  logCleanerBackoffMs: 15_000,
  logCleanerEnable: true,
} as const satisfies Record<ConfigKey, string | number | boolean>;

/** The command-line flag for each key; error messages name it so the user knows what to change. */
export const FLAGS = {
  dataDir: "--data-dir",
  host: "--host",
  amqpPort: "--amqp-port",
  kafkaPort: "--kafka-port",
  httpPort: "--http-port",
  fsync: "--fsync",
  autoCreateTopics: "--auto-create-topics",
  defaultPartitions: "--default-partitions",
  kafkaMaxRequestBytes: "--kafka-max-request-bytes",
  diskFreeLimit: "--disk-free-limit",
  memoryHighWatermark: "--memory-high-watermark",
  logLevel: "--log-level",
  insecure: "--insecure",
  maxConnections: "--max-connections",
  logCleanerDedupeBufferSize: "--log-cleaner-dedupe-buffer-size",
  logCleanerBackoffMs: "--log-cleaner-backoff-ms",
  logCleanerEnable: "--log-cleaner-enable",
} as const satisfies Record<ConfigKey, string>;

export const ENV_VARS = {
  dataDir: "SPINDLE_DATA_DIR",
  host: "SPINDLE_HOST",
  amqpPort: "SPINDLE_AMQP_PORT",
  kafkaPort: "SPINDLE_KAFKA_PORT",
  httpPort: "SPINDLE_HTTP_PORT",
  fsync: "SPINDLE_FSYNC",
  autoCreateTopics: "SPINDLE_AUTO_CREATE_TOPICS",
  defaultPartitions: "SPINDLE_DEFAULT_PARTITIONS",
  kafkaMaxRequestBytes: "SPINDLE_KAFKA_MAX_REQUEST_BYTES",
  diskFreeLimit: "SPINDLE_DISK_FREE_LIMIT",
  memoryHighWatermark: "SPINDLE_MEMORY_HIGH_WATERMARK",
  logLevel: "SPINDLE_LOG_LEVEL",
  insecure: "SPINDLE_INSECURE",
  maxConnections: "SPINDLE_MAX_CONNECTIONS",
  logCleanerDedupeBufferSize: "SPINDLE_LOG_CLEANER_DEDUPE_BUFFER_SIZE",
  logCleanerBackoffMs: "SPINDLE_LOG_CLEANER_BACKOFF_MS",
  logCleanerEnable: "SPINDLE_LOG_CLEANER_ENABLE",
} as const satisfies Record<ConfigKey, string>;

export const CONFIG_ENV_VAR = "SPINDLE_CONFIG";

const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

/** A whole number in [min, max], given as a number or (from flags and the environment) as digits. */
function intSchema(min: number, max: number) {
  const digits = new RegExp(`^\\d{1,${String(max).length}}$`);
  return z.pipe(
    z.union([z.number(), z.pipe(z.string().check(z.regex(digits)), z.transform(Number))]),
    z.int().check(z.minimum(min), z.maximum(max)),
  );
}

const portSchema = intSchema(0, 65535);

/** A host name or IP address as `listen()` takes it; resolution errors surface when binding. */
const hostSchema = z.string().check(z.regex(/^[^\s/]{1,253}$/));

const dataDirSchema = z.string().check(
  z.minLength(1),
  z.refine((s) => !s.includes("\0")),
);

const fsyncSchema = z.pipe(z.string(), z.transform(fromParser<FsyncPolicy>(parseFsyncPolicy)));

const booleanSchema = z.union([
  z.boolean(),
  z.pipe(
    z.enum(["true", "false", "1", "0", "yes", "no", "on", "off"]),
    z.transform((t) => ["true", "1", "yes", "on"].includes(t)),
  ),
]);

const partitionsSchema = intSchema(1, 1000);

const requestBytesSchema = intSchema(1024, 1024 * 1024 * 1024);

const maxConnectionsSchema = z.union([z.literal("auto"), intSchema(1, 10_000_000)]);

/** A parser's sentence becomes the issue's message, which parseField reports as is. */
function fromParser<T>(parse: (text: string) => T | string) {
  return (text: string, ctx: z.core.ParsePayload): T => {
    const parsed = parse(text);
    if (typeof parsed !== "string") return parsed;
    ctx.issues.push({ code: "custom", message: parsed, input: text });
    return z.NEVER;
  };
}

/** Bytes as a JSON number, or a string with an optional unit as RabbitMQ takes them ("50MB", "1GiB"). */
const byteSizeSchema = z.union([
  z.int().check(z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER)),
  z.pipe(z.string(), z.transform(fromParser(parseByteSize))),
]);

/** A fraction of memory (0..1) or bytes, as a JSON number or a string like "0.4" or "2GB". */
const watermarkSchema = z.union([
  z.pipe(
    z.number().check(z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER)),
    z.transform((n, ctx) => fromParser(parseMemoryWatermark)(String(n), ctx)),
  ),
  z.pipe(z.string(), z.transform(fromParser(parseMemoryWatermark))),
]);

/** Each key's schema and the sentence that tells the user what a valid value looks like. */
const FIELDS = {
  dataDir: {
    schema: dataDirSchema,
    expect: (v: string) => `invalid data directory ${v}: use a non-empty path`,
  },
  host: { schema: hostSchema, expect: (v: string) => `invalid host ${v}: use a host name or an IP address` },
  amqpPort: { schema: portSchema, expect: portExpect },
  kafkaPort: { schema: portSchema, expect: portExpect },
  httpPort: { schema: portSchema, expect: portExpect },
  fsync: { schema: fsyncSchema, expect: fsyncExpect },
  autoCreateTopics: {
    schema: booleanSchema,
    expect: (v: string) => `invalid boolean ${v}: use true or false`,
  },
  defaultPartitions: {
    schema: partitionsSchema,
    expect: (v: string) => `invalid partition count ${v}: use an integer from 1 to 1000`,
  },
  kafkaMaxRequestBytes: {
    schema: requestBytesSchema,
    expect: (v: string) => `invalid request size ${v}: use bytes from 1024 to 1073741824`,
  },
  diskFreeLimit: {
    schema: byteSizeSchema,
    expect: (v: string) => `invalid size ${v}: use bytes, optionally with a unit (e.g. 50MB, 1GB)`,
  },
  memoryHighWatermark: {
    schema: watermarkSchema,
    expect: (v: string) =>
      `invalid memory watermark ${v}: use a fraction of total memory from 0 to 1 (e.g. 0.4) or bytes with a unit (e.g. 2GB)`,
  },
  logLevel: {
    schema: z.enum(LOG_LEVELS),
    expect: (v: string) => `invalid log level ${v}: use one of ${LOG_LEVELS.join(", ")}`,
  },
  insecure: {
    schema: booleanSchema,
    expect: (v: string) => `invalid boolean ${v}: use true or false`,
  },
  maxConnections: {
    schema: maxConnectionsSchema,
    expect: (v: string) => `invalid connection limit ${v}: use an integer from 1 to 10000000, or auto`,
  },
  logCleanerDedupeBufferSize: {
    schema: z.pipe(byteSizeSchema, z.int().check(z.minimum(1024), z.maximum(2 ** 31))),
    expect: (v: string) =>
      `invalid cleaner buffer size ${v}: use 1KiB to 2GiB, optionally with a unit (e.g. 32MiB)`,
  },
  logCleanerBackoffMs: {
    schema: intSchema(10, 86_400_000),
    expect: (v: string) => `invalid cleaner backoff ${v}: use milliseconds from 10 to 86400000`,
  },
  logCleanerEnable: {
    schema: booleanSchema,
    expect: (v: string) => `invalid boolean ${v}: use true or false`,
  },
} satisfies Record<ConfigKey, { schema: z.ZodMiniType; expect: (shown: string) => string }>;

function portExpect(v: string): string {
  return `invalid port ${v}: use an integer from 0 to 65535 (0 picks a free port)`;
}

function fsyncExpect(v: string): string {
  return `invalid fsync policy ${v}: use group, always, interval:MS (1..3600000) or never`;
}

type Parsed = { -readonly [K in ConfigKey]: BrokerConfig[K] };

function invalid(message: string, details: Record<string, unknown> = {}): BrokerError {
  return new BrokerError("INVALID_CONFIG", message, details);
}

/** Validates one value; `label` says where it came from (`--amqp-port`, `SPINDLE_HOST`, `config file x: host`). */
function parseField<K extends ConfigKey>(key: K, value: unknown, label: string): Parsed[K] {
  const result = FIELDS[key].schema.safeParse(value);
  if (result.success) return result.data as Parsed[K];
  // A custom issue carries the parser's own sentence (fsync); otherwise the field's generic one.
  const custom = result.error.issues.find((i) => i.code === "custom")?.message;
  throw invalid(`${label}: ${custom ?? FIELDS[key].expect(show(value))}`, { key, source: label });
}

/** Validates every value a layer sets, so a typo is reported even when a higher layer overrides it. */
function parseLayer(raw: RawConfig, label: (key: ConfigKey) => string): Partial<Parsed> {
  const out: Partial<Parsed> = {};
  for (const key of CONFIG_KEYS) {
    if (raw[key] !== undefined) Object.assign(out, { [key]: parseField(key, raw[key], label(key)) });
  }
  return out;
}

/** Reads SPINDLE_* variables; an empty variable counts as unset, as in most shells' `VAR= cmd`. */
export function envLayer(env: NodeJS.ProcessEnv): RawConfig {
  const raw: RawConfig = {};
  for (const key of CONFIG_KEYS) {
    const value = env[ENV_VARS[key]];
    if (value !== undefined && value !== "") raw[key] = value;
  }
  return raw;
}

const fileSchema = z.strictObject(Object.fromEntries(CONFIG_KEYS.map((k) => [k, z.optional(z.unknown())])));

/** Parses a JSON config file's text; unknown keys are errors because a misspelt key would be silently ignored. */
export function fileLayer(text: string, path: string): RawConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw invalid(`config file ${path} is not valid JSON: ${(e as Error).message}`, { path });
  }
  const result = fileSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const what =
      issue?.code === "unrecognized_keys"
        ? `unknown key ${show(issue.keys[0])} (known keys: ${CONFIG_KEYS.join(", ")})`
        : "must be a JSON object";
    throw invalid(`config file ${path}: ${what}`, { path });
  }
  return result.data as RawConfig;
}

export type ConfigSources = {
  /** Values from the command line, keyed like BrokerConfig; undefined means not given. */
  readonly argv: RawConfig;
  /** Path from `--config`; overrides SPINDLE_CONFIG. */
  readonly configFile?: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly readFile?: (path: string) => string;
  readonly cwd?: string;
};

function readConfigFile(path: string, readFile: (path: string) => string): string {
  try {
    return readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw invalid(`cannot read config file ${path} (${code})`, { path });
  }
}

/** Merges argv > env > file > defaults; throws a BrokerError INVALID_CONFIG with a one-line message. */
export function resolveConfig(sources: ConfigSources): BrokerConfig {
  const readFile = sources.readFile ?? ((p: string) => readFileSync(p, "utf8"));
  const filePath = sources.configFile ?? configFilePath(sources.env);
  const fromFile = filePath === undefined ? {} : fileLayer(readConfigFile(filePath, readFile), filePath);
  const layers = [
    parseLayer(sources.argv, (k) => FLAGS[k]),
    parseLayer(envLayer(sources.env), (k) => ENV_VARS[k]),
    parseLayer(fromFile, (k) => `config file ${filePath}: ${k}`),
    parseLayer(DEFAULTS, (k) => `default ${k}`),
  ];
  const merged = Object.assign({}, ...layers.toReversed()) as Parsed;
  const hostSource = (["argv", "env", "file"] as const).find((_, i) => layers[i]?.host !== undefined);
  const refusal = exposureRefusal(merged.host, merged.insecure, hostSource ?? "default");
  if (refusal !== undefined) throw invalid(refusal, { key: "host", host: merged.host });
  return { ...merged, dataDir: resolve(sources.cwd ?? process.cwd(), merged.dataDir) };
}

function configFilePath(env: NodeJS.ProcessEnv): string | undefined {
  const path = env[CONFIG_ENV_VAR];
  return path === undefined || path === "" ? undefined : path;
}
