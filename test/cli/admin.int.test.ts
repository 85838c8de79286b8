// The `spindle` admin commands of the queue model (status, queues, exchanges, bindings, publish, consume -q)
// run as the real bin against a real broker: tables, --json, stdin, and the exit codes scripts rely on.
// Invariant: every assertion reads what the command printed or what the broker holds afterwards.

import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, describe, test } from "node:test";
import amqplib from "amqplib";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";
import { type CliRun, cliFor, runCli, runCliOnTty, tableRows } from "./run-cli.ts";

let broker: SpindleProcess;
let url: string;
let spindle: ReturnType<typeof cliFor>;

before(async () => {
  broker = await startSpindle();
  url = `http://${broker.http}`;
  spindle = cliFor(url);
});
after(() => broker?.stop());

function ok(r: CliRun): CliRun {
  assert.equal(r.code, 0, `exit 0; stderr: ${r.stderr}`);
  return r;
}

/** Exit `code` with one stderr line matching `pattern`, nothing on stdout. */
function fails(r: CliRun, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit ${code}; stdout: ${r.stdout}; stderr: ${r.stderr}`);
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, `one stderr line: ${r.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.equal(r.stdout, "");
}

const rowOf = (r: CliRun, first: string): string[] | undefined =>
  tableRows(r.stdout).find((row) => row[0] === first);

describe("spindle status", () => {
  test("a table with the version, the listeners and the totals; --json has the overview and the alarms", async () => {
    const r = ok(await spindle(["status"]));
    assert.match(r.stdout, /^version\s+Spindle \d+\.\d+\.\d+$/m);
    assert.match(r.stdout, new RegExp(`^listeners\\s+.*amqp 127\\.0\\.0\\.1:${broker.port}`, "m"));
    assert.match(r.stdout, /^queues\s+\d+$/m);
    assert.match(r.stdout, /^alarms\s+none$/m);
    const json = JSON.parse(ok(await spindle(["status", "--json"])).stdout);
    assert.equal(json.product_name, "Spindle");
    assert.deepEqual(json.alarms, []);
    assert.ok(json.listeners.some((l: { protocol: string }) => l.protocol === "kafka"));
  });
});

describe("spindle queues", () => {
  test("declare, list as a table and as JSON, delete", async () => {
    assert.match(
      ok(await spindle(["queues", "declare", "q.list", "-a", "x-message-ttl=60000"])).stdout,
      /q\.list/,
    );
    ok(await spindle(["queues", "declare", "q.transient", "--no-durable"]));
    const table = ok(await spindle(["queues", "list"]));
    assert.deepEqual(tableRows(table.stdout)[0], [
      "name",
      "durable",
      "auto_delete",
      "exclusive",
      "messages",
      "ready",
      "unacked",
      "consumers",
      "state",
    ]);
    assert.deepEqual(rowOf(table, "q.list")?.slice(0, 5), ["q.list", "true", "false", "false", "0"]);
    assert.equal(rowOf(table, "q.transient")?.[1], "false");
    const json = JSON.parse(ok(await spindle(["queues", "list", "--json"])).stdout) as Array<{
      name: string;
      arguments: unknown;
    }>;
    assert.deepEqual(json.find((q) => q.name === "q.list")?.arguments, { "x-message-ttl": 60000 });
    ok(await spindle(["queues", "delete", "q.transient"]));
    assert.equal(rowOf(ok(await spindle(["queues", "list"])), "q.transient"), undefined);
  });

  test("a declare the server refuses exits 1 with its reason on one line", async () => {
    ok(await spindle(["queues", "declare", "q.durable"]));
    fails(await spindle(["queues", "declare", "q.durable", "--no-durable"]), 1, /inequivalent arg 'durable'/);
    fails(await spindle(["queues", "delete", "q.nothing"]), 1, /q\.nothing/);
    fails(await spindle(["queues", "purge", "q.nothing", "--json"]), 1, /q\.nothing/);
  });

  test("publish from an argument and from stdin (binary too), consume them back byte for byte, purge", async () => {
    ok(await spindle(["queues", "declare", "q.pub"]));
    assert.equal(ok(await spindle(["publish", "-k", "q.pub", "first"])).stdout, "published\n");
    ok(await spindle(["publish", "-k", "q.pub", "-H", "id=007", "--persistent"], { input: "from stdin\n" }));
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a]);
    ok(await spindle(["publish", "-k", "q.pub"], { input: binary }));

    const peek = ok(await spindle(["consume", "-q", "q.pub", "-c", "3", "--ack-mode", "ack_requeue_true"]));
    assert.deepEqual(
      peek.stdoutBytes,
      Buffer.concat([Buffer.from("first\nfrom stdin\n\n"), binary, Buffer.from("\n")]),
    );
    const formatted = ok(
      await spindle([
        "consume",
        "-q",
        "q.pub",
        "-c",
        "2",
        "--ack-mode",
        "ack_requeue_true",
        "-f",
        "%t %k %S %h\\n",
      ]),
    );
    assert.equal(formatted.stdout, "q.pub q.pub 5 \nq.pub q.pub 11 id=007\n");
    const json = ok(
      await spindle(["consume", "-q", "q.pub", "-c", "3", "--ack-mode", "ack_requeue_true", "--json"]),
    );
    const lines = json.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    assert.equal(lines[1].properties.delivery_mode, 2);
    assert.equal(lines[2].payload_encoding, "base64");

    assert.match(ok(await spindle(["queues", "purge", "q.pub"])).stdout, /purged/);
    const listed = JSON.parse(ok(await spindle(["queues", "list", "--json"])).stdout) as Array<{
      name: string;
      messages: number;
    }>;
    assert.equal(listed.find((q) => q.name === "q.pub")?.messages, 0);
    assert.equal(ok(await spindle(["consume", "-q", "q.pub"])).stdout, "", "nothing left to get");
  });

  test("consume's default ack mode takes the messages off the queue", async () => {
    ok(await spindle(["queues", "declare", "q.consume"]));
    for (const body of ["a", "b", "c"]) ok(await spindle(["publish", "-k", "q.consume", body]));
    assert.equal(ok(await spindle(["consume", "-q", "q.consume", "-c", "2"])).stdout, "a\nb\n");
    assert.equal(ok(await spindle(["consume", "-q", "q.consume", "-c", "5"])).stdout, "c\n");
  });

  test("an unrouted publish says so on stderr and exits 0; --json says routed false", async () => {
    const r = ok(await spindle(["publish", "-k", "no.such.queue", "x"]));
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /no queue received it/);
    assert.deepEqual(
      JSON.parse(ok(await spindle(["publish", "-k", "no.such.queue", "x", "--json"])).stdout),
      {
        routed: false,
      },
    );
  });
});

/** Publishes `n` persistent messages `m-0`… to `queue` (declared durable) over AMQP, with confirms. */
async function fill(queue: string, n: number, headers: (i: number) => Record<string, string> = () => ({})) {
  const conn = await amqplib.connect(broker.url);
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(queue, { durable: true });
    for (let i = 0; i < n; i++)
      ch.sendToQueue(queue, Buffer.from(`m-${i}`), { persistent: true, headers: headers(i) });
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
}

async function depth(queue: string): Promise<number> {
  const listed = JSON.parse(ok(await spindle(["queues", "list", "--json"])).stdout) as Array<{
    name: string;
    messages: number;
  }>;
  return listed.find((q) => q.name === queue)?.messages ?? -1;
}

describe("spindle queues peek and move", () => {
  test("peek pages through a queue without consuming it, filters on payload and headers", async () => {
    await fill("q.peek", 5, (i) => (i === 3 ? { kind: "ERROR" } : {}));
    const page = ok(await spindle(["queues", "peek", "q.peek", "--limit", "2"]));
    const rows = tableRows(page.stdout);
    assert.deepEqual(rows[0], [
      "position",
      "state",
      "exchange",
      "routing_key",
      "redelivered",
      "bytes",
      "payload",
      "headers",
    ]);
    assert.deepEqual(rows.slice(1), [
      ["0", "ready", "", "q.peek", "false", "3", "m-0", ""],
      ["1", "ready", "", "q.peek", "false", "3", "m-1", ""],
    ]);
    assert.equal(page.stderr, 'more: spindle queues peek "q.peek" --from 2\n');
    const rest = ok(await spindle(["queues", "peek", "q.peek", "--from", "2", "--json"]));
    const json = JSON.parse(rest.stdout) as {
      messages: Array<{ position: number; payload: string }>;
      next: unknown;
    };
    assert.deepEqual(
      json.messages.map((m) => m.payload),
      ["m-2", "m-3", "m-4"],
    );
    assert.equal(json.next, null);
    assert.equal(rest.stderr, "", "--json output says where the next page starts in `next`, not on stderr");
    const filtered = tableRows(ok(await spindle(["queues", "peek", "q.peek", "--filter", "ERROR"])).stdout);
    assert.deepEqual(filtered.slice(1), [
      ["3", "ready", "", "q.peek", "false", "3", "m-3", '{"kind":"ERROR"}'],
    ]);
    assert.equal(await depth("q.peek"), 5, "peek consumed nothing");
    fails(await spindle(["queues", "peek", "q.none"]), 1, /q\.none/);
  });

  test("move with count and filter, no progress bar without a terminal; errors exit 1 and 2", async () => {
    await fill("q.src", 2500, (i) => ({ n: String(i % 10) }));
    ok(await spindle(["queues", "declare", "q.dst"]));
    const some = ok(await spindle(["queues", "move", "q.src", "--to", "q.dst", "--count", "10"]));
    assert.equal(some.stdout, 'moved 10 messages from "q.src" to "q.dst"\n');
    assert.equal(some.stderr, "", "no bar when stderr is not a terminal");
    const filtered = ok(
      await spindle(["queues", "move", "q.src", "--to", "q.dst", "--filter", "m-2499", "--json"]),
    );
    assert.deepEqual(JSON.parse(filtered.stdout), { moved: 1 });
    const all = ok(await spindle(["queues", "move", "q.src", "--to", "q.dst"]));
    assert.equal(all.stdout, 'moved 2489 messages from "q.src" to "q.dst"\n');
    assert.equal(all.stderr, "");
    assert.equal(await depth("q.src"), 0);
    assert.equal(await depth("q.dst"), 2500);
    const first = ok(await spindle(["consume", "-q", "q.dst", "-c", "3", "--ack-mode", "ack_requeue_true"]));
    assert.equal(first.stdout, "m-0\nm-1\nm-2\n", "oldest first");

    fails(await spindle(["queues", "move", "q.dst", "--to", "q.none"]), 1, /q\.none/);
    fails(await spindle(["queues", "move", "q.dst", "--to", "q.dst"]), 1, /itself/);
    fails(await spindle(["queues", "move", "q.dst"]), 2, /--to/);
  });

  test("on a terminal, a move draws its progress on stderr and clears it", async () => {
    await fill("q.tty", 3000);
    ok(await spindle(["queues", "declare", "q.tty.dst"]));
    const screen = await runCliOnTty(["queues", "move", "q.tty", "--to", "q.tty.dst"], {
      SPINDLE_HTTP_URL: url,
    });
    assert.match(screen, /\rmoving \[[=> ]+\] +\d+% [\d.]+k?\/3k/);
    // ESC [ K (erase line) clears the bar before the result
    assert.ok(
      screen.endsWith('\r\u001b[Kmoved 3000 messages from "q.tty" to "q.tty.dst"\r\n'),
      JSON.stringify(screen.slice(-120)),
    );
    assert.equal(await depth("q.tty.dst"), 3000);
  });
});

describe("spindle exchanges", () => {
  test("declare a topic exchange, list it, refuse an inequivalent redeclare, delete it", async () => {
    ok(await spindle(["exchanges", "declare", "ex.events", "--type", "topic"]));
    const table = ok(await spindle(["exchanges", "list"]));
    assert.deepEqual(rowOf(table, "ex.events")?.slice(0, 3), ["ex.events", "topic", "true"]);
    assert.ok(rowOf(table, "(AMQP default)"), "the default exchange is listed as RabbitMQ lists it");
    fails(await spindle(["exchanges", "declare", "ex.events", "--type", "fanout"]), 1, /inequivalent arg/);
    const json = JSON.parse(ok(await spindle(["exchanges", "list", "--json"])).stdout) as Array<{
      name: string;
    }>;
    assert.ok(json.some((e) => e.name === ""));
    ok(await spindle(["exchanges", "delete", "ex.events"]));
    assert.equal(rowOf(ok(await spindle(["exchanges", "list"])), "ex.events"), undefined);
  });
});

describe("spindle bindings", () => {
  test("declare to a queue and to an exchange, list, route through them, delete by routing key", async () => {
    ok(await spindle(["queues", "declare", "q.bound"]));
    ok(await spindle(["exchanges", "declare", "ex.orders", "--type", "topic"]));
    const bound = ok(await spindle(["bindings", "declare", "ex.orders", "q.bound", "-k", "order.*"]));
    assert.match(
      bound.stdout,
      /bound queue "q\.bound" to exchange "ex\.orders" with routing key "order\.\*"/,
    );
    ok(
      await spindle([
        "bindings",
        "declare",
        "amq.topic",
        "ex.orders",
        "--destination-type",
        "exchange",
        "-k",
        "#",
      ]),
    );

    const table = ok(await spindle(["bindings", "list"]));
    const rows = tableRows(table.stdout);
    assert.deepEqual(rows[0], ["source", "destination", "destination_type", "routing_key", "arguments"]);
    assert.ok(rows.some((r) => r.join("|") === "ex.orders|q.bound|queue|order.*|"));
    assert.ok(rows.some((r) => r.join("|") === "amq.topic|ex.orders|exchange|#|"));
    const json = JSON.parse(ok(await spindle(["bindings", "list", "--json"])).stdout) as Array<{
      source: string;
    }>;
    assert.ok(json.some((b) => b.source === "ex.orders"));

    // amq.topic → ex.orders → q.bound
    assert.equal(
      ok(await spindle(["publish", "-e", "amq.topic", "-k", "order.created", "o1"])).stdout,
      "published\n",
    );
    assert.equal(ok(await spindle(["consume", "-q", "q.bound"])).stdout, "o1\n");

    fails(
      await spindle(["bindings", "delete", "ex.orders", "q.bound", "-k", "order.x"]),
      1,
      /no binding .*order\.x/,
    );
    assert.match(
      ok(await spindle(["bindings", "delete", "ex.orders", "q.bound", "-k", "order.*"])).stdout,
      /deleted 1 binding/,
    );
    ok(
      await spindle([
        "bindings",
        "delete",
        "amq.topic",
        "ex.orders",
        "--destination-type",
        "exchange",
        "-k",
        "#",
      ]),
    );
    const after = tableRows(ok(await spindle(["bindings", "list"])).stdout);
    assert.ok(!after.some((r) => r[0] === "ex.orders" || r[1] === "ex.orders"), "both bindings gone");
    fails(await spindle(["bindings", "declare", "ex.orders", "q.missing"]), 1, /q\.missing/);
  });
});

describe("exit codes", () => {
  test("usage errors exit 2 with one line", async () => {
    fails(await spindle(["queues", "list", "--no-such-flag"]), 2, /unknown option '--no-such-flag'/);
    fails(await spindle(["queues", "lst"]), 2, /unknown command 'lst'/);
    fails(await spindle(["queues", "move", "a"]), 2, /--to/);
    fails(await spindle(["queues", "peek", "a", "--limit", "0"]), 2, /--limit/);
    fails(await spindle(["consume"]), 2, /exactly one of -q QUEUE and -t TOPIC/);
    fails(await spindle(["queues", "list", "--http-url", "not a url"]), 2, /--http-url .* is not a URL/);
    const bare = await spindle(["queues"]);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /Usage: spindle queues/);
  });

  test("an unreachable broker exits 3 naming the URL and what to do", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const dead = `http://127.0.0.1:${port}`;
    for (const args of [["status"], ["queues", "list", "--json"], ["publish", "x"]]) {
      fails(
        await runCli([...args, "--http-url", dead]),
        3,
        new RegExp(`cannot connect to ${dead}.*spindle start.*--http-url`),
      );
    }
    fails(await runCli(["queues", "list"], { env: { SPINDLE_HTTP_URL: dead } }), 3, /cannot connect/);
  });

  test("--http-url wins over SPINDLE_HTTP_URL; a wrong password exits 1 naming --user and --password", async () => {
    ok(
      await runCli(["queues", "list", "--http-url", url], {
        env: { SPINDLE_HTTP_URL: "http://127.0.0.1:1" },
      }),
    );
    fails(
      await spindle(["queues", "list", "--password", "wrong"]),
      1,
      /refused user "guest".*--user and --password/,
    );
  });
});
