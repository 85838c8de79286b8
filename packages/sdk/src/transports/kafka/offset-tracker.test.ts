// The commit point moves only over settled records.

import assert from "node:assert/strict";
import { test } from "node:test";
import { OffsetTracker } from "./offset-tracker.ts";

test("the commit point stops at the lowest unsettled record and passes it once settled", () => {
  const t = new OffsetTracker();
  assert.equal(t.commitPoint(), undefined, "nothing seen");
  for (const o of [5n, 6n, 7n]) t.seen(o);
  t.done(6n);
  assert.equal(t.commitPoint(), 5n, "5 is still open");
  t.done(5n);
  assert.equal(t.commitPoint(), 7n);
  t.committed = 7n;
  assert.equal(t.commitPoint(), undefined, "unchanged");
  t.done(7n);
  assert.equal(t.commitPoint(), 8n, "all settled: past the last");
});
