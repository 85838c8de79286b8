// Unit tests for config layering: argv > env > file > defaults, and one-line errors naming the source.
// Invariant: no real file or env is read; every case injects its own.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { BrokerError } from "../lib/index.ts";
import { type ConfigSources, resolveConfig } from "./config.ts";

const CWD = "/srv/spindle";

function files(map: Record<string, string>): (path: string) => string {
  return (path) => {
    const text = map[path];
    if (text === undefined) throw Object.assign(new Error(`no ${path}`), { code: "ENOENT" });
    return text;
  };
}

function resolveWith(sources: Partial<ConfigSources>) {
  return resolveConfig({ argv: {}, env: {}, cwd: CWD, readFile: files({}), ...sources });
}

/** Asserts that resolving fails with one INVALID_CONFIG line matching `pattern`. */
function rejects(sources: Partial<ConfigSources>, pattern: RegExp): void {
  assert.throws(
    () => resolveWith(sources),
    (e: unknown) => {
      assert.ok(e instanceof BrokerError, "a BrokerError");
      assert.equal(e.code, "INVALID_CONFIG");
      assert.doesNotMatch(e.message, /\n/, "one line");
      assert.match(e.message, pattern);
      return true;
    },
  );
}

describe("defaults", () => {
  test("with no input every key has its documented default", () => {
    assert.deepEqual(resolveWith({}), {
      dataDir: `${CWD}/spindle-data`,
      host: "127.0.0.1",
      amqpPort: 5672,
      kafkaPort: 9092,
      httpPort: 8080,
      fsync: { mode: "group" },
      autoCreateTopics: true,
      defaultPartitions: 1,
      kafkaMaxRequestBytes: 104_857_600,
      diskFreeLimit: 50_000_000,
      memoryHighWatermark: { fraction: 0.4 },
      logLevel: "info",
      insecure: false,
      maxConnections: "auto",
      logCleanerDedupeBufferSize: 32 * 1024 * 1024,
      logCleanerBackoffMs: 15_000,
      logCleanerEnable: true,
    });
  });
});

describe("max connections", () => {
  test("a number from a flag or the environment, or auto", () => {
    assert.equal(resolveWith({ argv: { maxConnections: "500" } }).maxConnections, 500);
    assert.equal(resolveWith({ env: { SPINDLE_MAX_CONNECTIONS: "auto" } }).maxConnections, "auto");
    assert.throws(
      () => resolveWith({ argv: { maxConnections: "0" } }),
      /--max-connections: invalid connection limit "0": use an integer from 1 to 10000000, or auto/,
    );
  });
});

describe("precedence argv > env > file > defaults", () => {
  const file = JSON.stringify({
    host: "10.0.0.3",
    insecure: true,
    amqpPort: 3,
    kafkaPort: 3,
    httpPort: 3,
    fsync: "never",
  });
  const env = { SPINDLE_CONFIG: "/etc/spindle.json", SPINDLE_KAFKA_PORT: "2", SPINDLE_HTTP_PORT: "2" };
  const config = resolveWith({
    argv: { httpPort: "1" },
    env,
    readFile: files({ "/etc/spindle.json": file }),
  });

  test("argv wins over env and file", () => assert.equal(config.httpPort, 1));
  test("env wins over file", () => assert.equal(config.kafkaPort, 2));
  test("file wins over defaults", () => {
    assert.equal(config.amqpPort, 3);
    assert.equal(config.host, "10.0.0.3");
    assert.deepEqual(config.fsync, { mode: "never" });
  });
  test("defaults fill what no layer sets", () => assert.equal(config.dataDir, `${CWD}/spindle-data`));

  test("--config wins over SPINDLE_CONFIG", () => {
    const c = resolveWith({
      configFile: "/a.json",
      env: { SPINDLE_CONFIG: "/b.json" },
      readFile: files({ "/a.json": '{"amqpPort": 11}', "/b.json": '{"amqpPort": 22}' }),
    });
    assert.equal(c.amqpPort, 11);
  });

  test("every env var is read", () => {
    const c = resolveWith({
      env: {
        SPINDLE_DATA_DIR: "/var/lib/spindle",
        SPINDLE_HOST: "::1",
        SPINDLE_AMQP_PORT: "5",
        SPINDLE_KAFKA_PORT: "6",
        SPINDLE_HTTP_PORT: "7",
        SPINDLE_FSYNC: "interval:50",
        SPINDLE_AUTO_CREATE_TOPICS: "false",
        SPINDLE_DEFAULT_PARTITIONS: "3",
        SPINDLE_KAFKA_MAX_REQUEST_BYTES: "2048",
        SPINDLE_DISK_FREE_LIMIT: "1GB",
        SPINDLE_MEMORY_HIGH_WATERMARK: "512MiB",
        SPINDLE_LOG_LEVEL: "debug",
        SPINDLE_INSECURE: "true",
        SPINDLE_MAX_CONNECTIONS: "300",
        SPINDLE_LOG_CLEANER_DEDUPE_BUFFER_SIZE: "1MiB",
        SPINDLE_LOG_CLEANER_BACKOFF_MS: "500",
        SPINDLE_LOG_CLEANER_ENABLE: "false",
      },
    });
    assert.deepEqual(c, {
      dataDir: "/var/lib/spindle",
      host: "::1",
      amqpPort: 5,
      kafkaPort: 6,
      httpPort: 7,
      fsync: { mode: "interval", intervalMs: 50 },
      autoCreateTopics: false,
      defaultPartitions: 3,
      kafkaMaxRequestBytes: 2048,
      diskFreeLimit: 1_000_000_000,
      memoryHighWatermark: { bytes: 512 * 1024 * 1024 },
      logLevel: "debug",
      insecure: true,
      maxConnections: 300,
      logCleanerDedupeBufferSize: 1024 * 1024,
      logCleanerBackoffMs: 500,
      logCleanerEnable: false,
    });
  });

  test("Kafka topic flags are validated", () => {
    assert.equal(resolveWith({ argv: { autoCreateTopics: "off" } }).autoCreateTopics, false);
    assert.equal(resolveWith({ argv: { defaultPartitions: "12" } }).defaultPartitions, 12);
    assert.throws(() => resolveWith({ argv: { defaultPartitions: "0" } }), /--default-partitions/);
    assert.throws(() => resolveWith({ argv: { autoCreateTopics: "maybe" } }), /--auto-create-topics/);
    assert.equal(resolveWith({ argv: { kafkaMaxRequestBytes: "4096" } }).kafkaMaxRequestBytes, 4096);
    assert.throws(() => resolveWith({ argv: { kafkaMaxRequestBytes: "12" } }), /--kafka-max-request-bytes/);
  });

  test("log cleaner settings are validated", () => {
    assert.equal(
      resolveWith({ argv: { logCleanerDedupeBufferSize: "4KiB" } }).logCleanerDedupeBufferSize,
      4096,
    );
    assert.throws(
      () => resolveWith({ argv: { logCleanerDedupeBufferSize: "12" } }),
      /--log-cleaner-dedupe-buffer-size: invalid cleaner buffer size "12"/,
    );
    assert.throws(() => resolveWith({ argv: { logCleanerBackoffMs: "0" } }), /--log-cleaner-backoff-ms/);
  });

  test("resource alarm limits take RabbitMQ's units and relative watermarks", () => {
    assert.equal(resolveWith({ argv: { diskFreeLimit: "2GiB" } }).diskFreeLimit, 2 * 2 ** 30);
    assert.equal(resolveWith({ argv: { diskFreeLimit: "1000TB" } }).diskFreeLimit, 1e15);
    assert.equal(resolveWith({ argv: { diskFreeLimit: "0" } }).diskFreeLimit, 0);
    assert.deepEqual(resolveWith({ argv: { memoryHighWatermark: "0.6" } }).memoryHighWatermark, {
      fraction: 0.6,
    });
    assert.deepEqual(resolveWith({ argv: { memoryHighWatermark: "2GB" } }).memoryHighWatermark, {
      bytes: 2e9,
    });
    const file = '{"diskFreeLimit": 1048576, "memoryHighWatermark": 0.5}';
    const c = resolveWith({ configFile: "/c.json", readFile: files({ "/c.json": file }) });
    assert.equal(c.diskFreeLimit, 1_048_576);
    assert.deepEqual(c.memoryHighWatermark, { fraction: 0.5 });
    const big = resolveWith({
      configFile: "/c.json",
      readFile: files({ "/c.json": '{"diskFreeLimit": "50MB", "memoryHighWatermark": 3000000000}' }),
    });
    assert.equal(big.diskFreeLimit, 50_000_000);
    assert.deepEqual(big.memoryHighWatermark, { bytes: 3e9 });
  });

  test("an empty env var counts as unset", () => {
    assert.equal(resolveWith({ env: { SPINDLE_AMQP_PORT: "" } }).amqpPort, 5672);
  });

  test("a relative data dir is resolved against the working directory", () => {
    assert.equal(resolveWith({ argv: { dataDir: "data" } }).dataDir, `${CWD}/data`);
  });

  test("port 0 is allowed (pick a free port)", () => {
    assert.equal(resolveWith({ argv: { amqpPort: "0" } }).amqpPort, 0);
  });
});

describe("invalid values give one line naming their source", () => {
  test("a non-numeric flag", () =>
    rejects({ argv: { amqpPort: "abc" } }, /^--amqp-port: invalid port "abc"/));
  test("a port above 65535", () => rejects({ argv: { httpPort: "65536" } }, /^--http-port: invalid port/));
  test("a negative port", () => rejects({ argv: { kafkaPort: "-1" } }, /^--kafka-port: invalid port "-1"/));
  test("a fractional port", () => rejects({ argv: { kafkaPort: "1.5" } }, /^--kafka-port: invalid port/));
  test("an unknown fsync mode", () =>
    rejects({ argv: { fsync: "fast" } }, /^--fsync: invalid fsync policy "fast": use group/));
  test("an empty host", () => rejects({ argv: { host: "" } }, /^--host: invalid host/));
  test("an empty data dir", () => rejects({ argv: { dataDir: "" } }, /^--data-dir: invalid data directory/));
  test("an env var", () =>
    rejects({ env: { SPINDLE_KAFKA_PORT: "x" } }, /^SPINDLE_KAFKA_PORT: invalid port "x"/));
  test("an env var overridden by argv is still checked", () =>
    rejects({ argv: { fsync: "never" }, env: { SPINDLE_FSYNC: "sometimes" } }, /^SPINDLE_FSYNC: /));
  test("a value in the file", () =>
    rejects(
      { configFile: "/c.json", readFile: files({ "/c.json": '{"httpPort": "x"}' }) },
      /^config file \/c\.json: httpPort: invalid port "x"/,
    ));
  test("a wrongly typed value in the file", () =>
    rejects(
      { configFile: "/c.json", readFile: files({ "/c.json": '{"fsync": 3}' }) },
      /^config file \/c\.json: fsync: invalid fsync policy 3/,
    ));
  test("an unknown key in the file", () =>
    rejects(
      { configFile: "/c.json", readFile: files({ "/c.json": '{"amqp_port": 1}' }) },
      /^config file \/c\.json: unknown key "amqp_port"/,
    ));
  test("a file that is not an object", () =>
    rejects({ configFile: "/c.json", readFile: files({ "/c.json": "[]" }) }, /must be a JSON object/));
  test("a file that is not JSON", () =>
    rejects(
      { configFile: "/c.json", readFile: files({ "/c.json": "{" }) },
      /^config file \/c\.json is not valid JSON/,
    ));
  test("a disk free limit with an unknown unit", () =>
    rejects({ argv: { diskFreeLimit: "50XB" } }, /^--disk-free-limit: invalid size "50XB": use bytes/));
  test("a negative disk free limit in the file", () =>
    rejects(
      { configFile: "/c.json", readFile: files({ "/c.json": '{"diskFreeLimit": -1}' }) },
      /^config file \/c\.json: diskFreeLimit: invalid size -1/,
    ));
  test("a memory watermark above 1 without a unit", () =>
    rejects(
      { env: { SPINDLE_MEMORY_HIGH_WATERMARK: "1.5" } },
      /^SPINDLE_MEMORY_HIGH_WATERMARK: invalid memory watermark "1.5": use a fraction/,
    ));
  test("an unknown log level", () =>
    rejects(
      { argv: { logLevel: "verbose" } },
      /^--log-level: invalid log level "verbose": use one of fatal, error, warn, info, debug, trace, silent$/,
    ));
  test("a missing file", () =>
    rejects(
      { env: { SPINDLE_CONFIG: "/missing.json" } },
      /^cannot read config file \/missing\.json \(ENOENT\)/,
    ));
});

describe("--log-level", () => {
  test("takes each of pino's levels from argv, env and file", () => {
    for (const level of ["fatal", "error", "warn", "info", "debug", "trace", "silent"]) {
      assert.equal(resolveWith({ argv: { logLevel: level } }).logLevel, level);
      assert.equal(resolveWith({ env: { SPINDLE_LOG_LEVEL: level } }).logLevel, level);
      const file = JSON.stringify({ logLevel: level });
      assert.equal(
        resolveWith({ configFile: "/c.json", readFile: files({ "/c.json": file }) }).logLevel,
        level,
      );
    }
  });
});

describe("a host beyond loopback needs --insecure while nothing authenticates", () => {
  test("loopback hosts start without it", () => {
    for (const host of [
      "127.0.0.1",
      "127.3.2.1",
      "::1",
      "0:0:0:0:0:0:0:1",
      "::ffff:127.0.0.1",
      "localhost",
      "LocalHost",
    ]) {
      assert.equal(resolveWith({ argv: { host } }).host, host);
    }
  });

  test("every other host is refused in one line that says how to allow it", () => {
    rejects(
      { argv: { host: "0.0.0.0" } },
      /^--host 0\.0\.0\.0 exposes the broker with no authentication \(guest\/guest\); pass --insecure to allow it, or bind 127\.0\.0\.1$/,
    );
    for (const host of [
      "::",
      "10.1.2.3",
      "192.168.0.7",
      "::ffff:10.0.0.1",
      "broker.example.com",
      "128.0.0.1",
    ]) {
      rejects({ argv: { host } }, /exposes the broker with no authentication/);
    }
  });

  test("the refusal names the layer the host came from", () => {
    rejects(
      { env: { SPINDLE_HOST: "0.0.0.0" } },
      /^SPINDLE_HOST=0\.0\.0\.0 exposes .*; set SPINDLE_INSECURE=true to allow it/,
    );
    rejects(
      { configFile: "/c.json", readFile: files({ "/c.json": '{"host": "0.0.0.0"}' }) },
      /^--host 0\.0\.0\.0 \(from the config file\) exposes /,
    );
  });

  test("--insecure (flag, env or file) allows it", () => {
    assert.equal(resolveWith({ argv: { host: "0.0.0.0", insecure: true } }).host, "0.0.0.0");
    assert.equal(resolveWith({ argv: { host: "::" }, env: { SPINDLE_INSECURE: "1" } }).host, "::");
    const file = '{"host": "10.0.0.3", "insecure": true}';
    assert.equal(resolveWith({ configFile: "/c.json", readFile: files({ "/c.json": file }) }).insecure, true);
  });

  test("SPINDLE_INSECURE=false does not", () =>
    rejects({ argv: { host: "0.0.0.0" }, env: { SPINDLE_INSECURE: "false" } }, /pass --insecure/));
});
