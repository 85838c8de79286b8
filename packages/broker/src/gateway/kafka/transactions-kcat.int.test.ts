// kcat (librdkafka) as a transactional producer against a real spindle process: it runs init, begin and
// commit itself when given a transactional.id; a read_committed kcat consumer reads what it committed.
// Invariant: unmodified kcat, over a socket.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, test } from "node:test";
import { type SpindleProcess, startSpindle } from "../../../../../test/support/spindle-process.ts";

let spindle: SpindleProcess;
before(async () => {
  spindle = await startSpindle();
});
after(async () => {
  await spindle.stop();
});

test("kcat: a transactional produce commits, and read_committed consumers read it up to the marker", () => {
  const produce = spawnSync(
    "kcat",
    ["-b", spindle.kafka, "-P", "-t", "kcat-tx", "-X", "transactional.id=kcat-tx"],
    {
      input: "a\nb\nc\n",
      encoding: "utf8",
      timeout: 30_000,
    },
  );
  assert.equal(produce.status, 0, produce.stderr);
  assert.match(produce.stderr, /Transaction successfully committed/);
  const consume = spawnSync(
    "kcat",
    [
      "-b",
      spindle.kafka,
      "-C",
      "-t",
      "kcat-tx",
      "-o",
      "beginning",
      "-e",
      "-X",
      "isolation.level=read_committed",
    ],
    { encoding: "utf8", timeout: 30_000 },
  );
  assert.equal(consume.status, 0, consume.stderr);
  assert.equal(consume.stdout, "a\nb\nc\n");
  assert.match(consume.stderr, /at offset 4/, "three records and the commit marker");
});
