// The README's outbox and event-sourcing example runs as written: extracted from README.md and run in a
// fresh node process on memory:// with a temporary SQLite file.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { fileURLToPath } from "node:url";

const sdkDir = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(join(sdkDir, "../../README.md"), "utf8");
const section = readme.slice(readme.indexOf("### Outbox and event sourcing"));
const example = /```ts\n([\s\S]*?)```/u.exec(section)?.[1] ?? "";

it("the README's outbox and event-sourcing example runs", () => {
  assert.match(example, /from "@spindle\/sdk"/u);
  const dir = mkdtempSync(join(tmpdir(), "spindle-readme-outbox-"));
  try {
    const r = spawnSync(
      process.execPath,
      ["--conditions=source", "--import", "tsx", "--input-type=module", "-e", example],
      {
        cwd: sdkDir,
        env: { ...process.env, BUS_URL: "memory://readme-outbox", DB_FILE: join(dir, "app.db") },
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "1 1 ItemAdded sku-42\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
