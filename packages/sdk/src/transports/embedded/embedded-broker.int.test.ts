// The embedded broker's worker thread as connect() sees it: a broker that cannot start rejects connect()
// with the broker's own error (not a hang, not a dead thread's exit code), and the built bundle finds its
// worker script, and lets the process exit after bus.close().
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { connect } from "../../index.ts";

const ROOT = fileURLToPath(new URL("../../../../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "spindle-sdk-embedded-worker-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("embedded:// broker in a worker thread", () => {
  it("a bad setting rejects connect() with the broker's error", async () => {
    await assert.rejects(connect(`embedded://${join(dir, "a")}?fsync=sometimes`), /fsync/u);
  });

  it("a data directory that cannot be made rejects connect() with the broker's error", async () => {
    const file = join(dir, "not-a-dir");
    writeFileSync(file, "x");
    await assert.rejects(connect(`embedded://${file}`), (e: Error) => e.message.includes("not-a-dir"));
  });

  it("from the built bundle: connects, handles, and the process exits after close()", () => {
    const script = `
const { connect } = await import("@spindle/sdk");
const bus = await connect("embedded://" + ${JSON.stringify(join(dir, "bundle"))} + "?fsync=never");
let done;
const handled = new Promise((r) => (done = r));
await bus.subscribe("orders", { group: "billing" }, (m) => done(m.data));
await bus.publish("orders", { n: 1 });
console.log(JSON.stringify(await handled));
await bus.close();`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim()), { n: 1 });
  });
});
