// Delay tiers and reconnect backoff: the rules the network adapters rely on.

import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffMs } from "./backoff.ts";
import { DELAY_TIERS_MS, delayTier } from "./delay-tiers.ts";

test("a delay waits in the smallest tier at least as long, past the last in the last", () => {
  assert.equal(delayTier(0), 100);
  assert.equal(delayTier(100), 100);
  assert.equal(delayTier(101), 200);
  assert.equal(delayTier(30_000), 50_000);
  assert.equal(delayTier(1e12), DELAY_TIERS_MS[DELAY_TIERS_MS.length - 1]);
  for (let i = 1; i < DELAY_TIERS_MS.length; i++) {
    assert.ok((DELAY_TIERS_MS[i] as number) > (DELAY_TIERS_MS[i - 1] as number), "tiers ascend");
  }
});

test("backoff doubles up to the cap, each wait between half and all of it", () => {
  const o = { initialMs: 100, maxMs: 1_000 };
  assert.equal(
    backoffMs(0, o, () => 0),
    50,
  );
  assert.equal(
    backoffMs(0, o, () => 1),
    100,
  );
  assert.equal(
    backoffMs(3, o, () => 1),
    800,
  );
  assert.equal(
    backoffMs(4, o, () => 1),
    1_000,
  );
  assert.equal(
    backoffMs(400, o, () => 0),
    500,
  );
});
