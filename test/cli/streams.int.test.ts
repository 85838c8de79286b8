// The `spindle` admin commands of the stream model (topics) run as the real bin against a real broker.
// Invariant: every assertion reads what the command printed or what the broker holds afterwards.

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import { type SpindleProcess, startSpindle, tempDataDir } from "../support/spindle-process.ts";
import { type CliRun, cliFor, runCliOnTty, tableRows } from "./run-cli.ts";

let broker: SpindleProcess;
let spindle: ReturnType<typeof cliFor>;

before(async () => {
  broker = await startSpindle();
  spindle = cliFor(`http://${broker.http}`);
});
after(() => broker?.stop());

function ok(r: CliRun): CliRun {
  assert.equal(r.code, 0, `exit 0; stderr: ${r.stderr}`);
  return r;
}

function fails(r: CliRun, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit ${code}; stdout: ${r.stdout}; stderr: ${r.stderr}`);
  assert.match(r.stderr.trimEnd(), pattern);
  assert.equal(r.stderr.trimEnd().split("\n").length, 1, `one stderr line: ${r.stderr}`);
  assert.equal(r.stdout, "");
}

describe("spindle topics", () => {
  test("create (idempotent), list, describe, delete", async () => {
    assert.equal(
      ok(await spindle(["topics", "create", "t.crud", "-p", "3", "-c", "retention.ms=86400000"])).stdout,
      'created topic "t.crud"\n',
    );
    assert.deepEqual(
      JSON.parse(ok(await spindle(["topics", "create", "t.crud", "-p", "3", "--json"])).stdout),
      {
        name: "t.crud",
        created: false,
      },
    );
    fails(await spindle(["topics", "create", "t.crud", "-p", "2"]), 1, /inequivalent arg 'partitions'/);
    fails(await spindle(["topics", "create", "t.bad", "-c", "retention.ms=soon"]), 1, /retention\.ms/);

    const list = ok(await spindle(["topics", "list"]));
    assert.deepEqual(tableRows(list.stdout)[0], ["name", "partitions", "messages"]);
    assert.deepEqual(
      tableRows(list.stdout).find((r) => r[0] === "t.crud"),
      ["t.crud", "3", "0"],
    );

    const described = ok(await spindle(["topics", "describe", "t.crud"]));
    assert.match(described.stdout, /^retention\.ms\s+86400000$/m);
    assert.deepEqual(tableRows(described.stdout).slice(1), [
      ["0", "0", "0", "0"],
      ["1", "0", "0", "0"],
      ["2", "0", "0", "0"],
    ]);
    const json = JSON.parse(ok(await spindle(["topics", "describe", "t.crud", "--json"])).stdout);
    assert.equal(json.partitions.length, 3);

    ok(await spindle(["topics", "delete", "t.crud"]));
    fails(await spindle(["topics", "describe", "t.crud"]), 1, /t\.crud/);
    fails(await spindle(["topics", "delete", "t.crud"]), 1, /t\.crud/);
  });
});

describe("spindle produce and consume -t", () => {
  test("lines from stdin with -K keys; read back with kcat's -f, -o and -c; --json", async () => {
    ok(await spindle(["topics", "create", "t.lines", "-p", "1"]));
    const input = 'k1|hello\nk2|world\n|no key\n{"n": 12345678901234567890}\n\nlast\n';
    assert.equal(
      ok(await spindle(["produce", "-t", "t.lines", "-K", "|"], { input })).stdout,
      'produced 6 records to topic "t.lines"\n',
    );
    const values = ok(await spindle(["consume", "-t", "t.lines"]));
    assert.equal(values.stdout, 'hello\nworld\nno key\n{"n":12345678901234567890}\n\nlast\n');
    const formatted = ok(await spindle(["consume", "-t", "t.lines", "-f", "%p/%o %K %k=%s\\n", "-c", "3"]));
    assert.equal(formatted.stdout, "0/0 2 k1=hello\n0/1 2 k2=world\n0/2 0 =no key\n");
    assert.equal(ok(await spindle(["consume", "-t", "t.lines", "-o", "-2"])).stdout, "\nlast\n");
    assert.equal(ok(await spindle(["consume", "-t", "t.lines", "-o", "1", "-c", "1"])).stdout, "world\n");
    assert.equal(ok(await spindle(["consume", "-t", "t.lines", "-o", "end"])).stdout, "");
    const json = ok(await spindle(["consume", "-t", "t.lines", "--json", "-c", "2"]));
    const records = json.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      records.map((r) => [r.topic, r.partition, r.offset, r.key, r.value]),
      [
        ["t.lines", 0, 0, "k1", "hello"],
        ["t.lines", 0, 1, "k2", "world"],
      ],
    );
  });

  test("a file of lines in batches over three partitions comes back whole", async () => {
    ok(await spindle(["topics", "create", "t.file", "-p", "3"]));
    const lines = Array.from({ length: 2500 }, (_, i) => `line-${i}`);
    const file = join(tempDataDir(), "lines.txt");
    writeFileSync(file, `${lines.join("\n")}\n`);
    const produced = ok(
      await spindle(["produce", "-t", "t.file", "--file", file, "--batch-size", "300", "--json"]),
    );
    assert.deepEqual(JSON.parse(produced.stdout), { topic: "t.file", produced: 2500 });
    assert.equal(produced.stderr, "", "no progress bar when stderr is not a terminal");
    const back = ok(await spindle(["consume", "-t", "t.file", "-f", "%p %s\\n"]));
    const got = back.stdout.trimEnd().split("\n");
    assert.deepEqual(got.map((l) => l.split(" ")[1]).sort(), [...lines].sort());
    assert.equal(new Set(got.map((l) => l.split(" ")[0])).size, 3, "spread over the three partitions");
    // Each partition keeps the file's order.
    for (const p of ["0", "1", "2"]) {
      const seq = got.filter((l) => l.startsWith(`${p} `)).map((l) => Number(l.split("-")[1]));
      assert.deepEqual(
        seq,
        [...seq].sort((a, b) => a - b),
      );
    }
    const described = JSON.parse(ok(await spindle(["topics", "describe", "t.file", "--json"])).stdout);
    assert.equal(described.messages, 2500);
    assert.equal(
      ok(await spindle(["consume", "-t", "t.file", "-p", "1", "-c", "5"])).stdout.split("\n").length,
      6,
    );
  });

  test("on a terminal, producing a file draws a progress bar on stderr and clears it", async () => {
    ok(await spindle(["topics", "create", "t.tty", "-p", "1"]));
    const file = join(tempDataDir(), "tty.txt");
    writeFileSync(file, Array.from({ length: 3000 }, (_, i) => `${i}\n`).join(""));
    const screen = await runCliOnTty(["produce", "-t", "t.tty", "--file", file, "--batch-size", "100"], {
      SPINDLE_HTTP_URL: `http://${broker.http}`,
    });
    assert.match(screen, /\rproducing \[=+>? *\] +\d+% [\d.]+k?B\/13\.9kB/);
    // ESC [ K (erase line) clears the bar before the result
    assert.ok(
      screen.endsWith('\r\u001b[Kproduced 3000 records to topic "t.tty"\r\n'),
      `the bar is cleared before the result: ${JSON.stringify(screen.slice(-80))}`,
    );
  });

  test("a missing topic or partition exits 1, a bad -o, -f or --file 2", async () => {
    fails(await spindle(["consume", "-t", "t.nothing"]), 1, /t\.nothing/);
    fails(
      await spindle(["produce", "-t", "t.nothing"], { input: "x\n" }),
      1,
      /t\.nothing.*0 records produced/,
    );
    fails(await spindle(["produce", "-t", "t.lines", "--file", "/no/such/file"]), 2, /--file.*ENOENT/);
    fails(await spindle(["consume", "-t", "t.lines", "-p", "9"]), 1, /no partition 9/);
    fails(await spindle(["consume", "-t", "t.lines", "-o", "latest"]), 2, /-o "latest"/);
    fails(await spindle(["consume", "-t", "t.lines", "-f", "%x"]), 2, /unknown token %x/);
  });
});

describe("spindle groups", () => {
  test("list and describe a kafkajs group; reset-offsets refused while it has a member, then each mode", async () => {
    ok(await spindle(["topics", "create", "t.group", "-p", "2"]));
    ok(await spindle(["produce", "-t", "t.group", "-p", "0"], { input: "a\nb\nc\n" }));
    ok(await spindle(["produce", "-t", "t.group", "-p", "1"], { input: "d\ne\n" }));
    const kafka = new Kafka({ clientId: "cli-test", brokers: [broker.kafka], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: "g.cli", sessionTimeout: 10_000, heartbeatInterval: 500 });
    let seen = 0;
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: ["t.group"], fromBeginning: true });
      await consumer.run({
        eachMessage: async () => {
          seen++;
        },
      });
      const deadline = Date.now() + 60_000;
      while (seen < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(seen, 5, "kafkajs read the five records");

      const listed = tableRows(ok(await spindle(["groups", "list"])).stdout);
      assert.deepEqual(listed[0], ["group_id", "state", "protocol_type", "members", "lag"]);
      assert.deepEqual(listed.find((r) => r[0] === "g.cli")?.slice(0, 4), [
        "g.cli",
        "Stable",
        "consumer",
        "1",
      ]);
      const described = ok(await spindle(["groups", "describe", "g.cli"]));
      assert.match(described.stdout, /^state\s+Stable$/m);
      assert.match(described.stdout, /\| cli-test +\| .*t\.group-0 t\.group-1 \|/);
      fails(
        await spindle(["groups", "reset-offsets", "g.cli", "--topic", "t.group", "--to-earliest"]),
        1,
        /g\.cli/,
      );
    } finally {
      await consumer.disconnect(); // commits what it read
    }

    const committed = async () => {
      const g = JSON.parse(ok(await spindle(["groups", "describe", "g.cli", "--json"])).stdout);
      return g.offsets.map((o: { partition: number; committed_offset: number }) => [
        o.partition,
        o.committed_offset,
      ]);
    };
    assert.deepEqual(await committed(), [
      [0, 3],
      [1, 2],
    ]);
    const reset = ok(
      await spindle(["groups", "reset-offsets", "g.cli", "--topic", "t.group", "--to-earliest"]),
    );
    assert.deepEqual(tableRows(reset.stdout), [
      ["topic", "partition", "offset"],
      ["t.group", "0", "0"],
      ["t.group", "1", "0"],
    ]);
    assert.deepEqual(await committed(), [
      [0, 0],
      [1, 0],
    ]);
    const one = ok(
      await spindle([
        "groups",
        "reset-offsets",
        "g.cli",
        "--topic",
        "t.group",
        "--to-offset",
        "2",
        "--partitions",
        "0",
        "--json",
      ]),
    );
    assert.deepEqual(JSON.parse(one.stdout), { offsets: [{ topic: "t.group", partition: 0, offset: 2 }] });
    ok(
      await spindle([
        "groups",
        "reset-offsets",
        "g.cli",
        "--topic",
        "t.group",
        "--to-timestamp",
        "0",
        "--partitions",
        "1",
      ]),
    );
    assert.deepEqual(await committed(), [
      [0, 2],
      [1, 0],
    ]);
    ok(await spindle(["groups", "reset-offsets", "g.cli", "--topic", "t.group", "--to-latest"]));
    assert.deepEqual(await committed(), [
      [0, 3],
      [1, 2],
    ]);

    fails(
      await spindle(["groups", "reset-offsets", "g.cli", "--topic", "t.group"]),
      2,
      /exactly one of --to-earliest/,
    );
    fails(
      await spindle([
        "groups",
        "reset-offsets",
        "g.cli",
        "--topic",
        "t.group",
        "--to-earliest",
        "--to-latest",
      ]),
      2,
      /exactly one/,
    );
    fails(await spindle(["groups", "reset-offsets", "g.cli", "--to-earliest"]), 2, /--topic/);
    fails(await spindle(["groups", "describe", "g.none"]), 1, /g\.none/);
  });
});
