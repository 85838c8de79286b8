// Reading `ulimit -n` from /proc/self/limits and sharing it between a reserve, connections and log files.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FALLBACK_FD_LIMIT, fdBudget, parseOpenFileLimit, readOpenFileLimit } from "./fd-budget.ts";

const LIMITS_TEXT = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 4096                 files
Max locked memory         8388608              8388608              bytes
`;

describe("fd budget", () => {
  it("reads the soft limit of open files", () => {
    assert.equal(parseOpenFileLimit(LIMITS_TEXT), 1024);
    assert.equal(parseOpenFileLimit(LIMITS_TEXT.replace("1024  ", "unlimited")), 1 << 30);
    assert.equal(parseOpenFileLimit("garbage"), null);
    assert.deepEqual(
      readOpenFileLimit(() => LIMITS_TEXT),
      { limit: 1024, source: "/proc/self/limits" },
    );
    const missing = () => {
      throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
    };
    assert.deepEqual(readOpenFileLimit(missing), { limit: FALLBACK_FD_LIMIT, source: "default" });
    assert.ok(readOpenFileLimit().limit > 0, "this machine's own limit is readable");
  });

  it("shares the limit: reserve, then half to connections and half to log files", () => {
    const b = fdBudget(1024, "auto");
    assert.equal(b.reserve, 64);
    assert.equal(b.maxConnections, 480);
    assert.equal(b.logFiles, 480);
    assert.equal(b.reserve + b.maxConnections + b.logFiles, 1024);
    assert.ok(b.logsMax < b.logFiles && b.logsMax >= 400, `logsMax ${b.logsMax}`);
    assert.equal(b.overcommitted, false);
    const big = fdBudget(1_048_576, "auto");
    assert.equal(big.reserve, 52_428);
  });

  it("an explicit connection limit takes its share; too large a one is flagged, log files keep a floor", () => {
    const b = fdBudget(1024, 200);
    assert.equal(b.maxConnections, 200);
    assert.equal(b.logFiles, 760);
    const over = fdBudget(1024, 5000);
    assert.equal(over.maxConnections, 5000);
    assert.equal(over.overcommitted, true);
    assert.ok(over.logFiles >= 32);
  });
});
