// The `spindle` admin commands of the stream model (topics) run as the real bin against a real broker.
// Invariant: every assertion reads what the command printed or what the broker holds afterwards.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";
import { type CliRun, cliFor, tableRows } from "./run-cli.ts";

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
