// The README's SDK example runs as written: extracted from README.md and run in a fresh node process on
// memory:// and on embedded:// (a Spindle broker inside that process, temp data directory).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const sdkDir = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(join(sdkDir, "../../README.md"), "utf8");
const section = readme.slice(readme.indexOf("## SDK"));
const example = /```ts\n([\s\S]*?)```/u.exec(section)?.[1] ?? "";

function run(busUrl: string) {
  return spawnSync(
    process.execPath,
    ["--conditions=source", "--import", "tsx", "--input-type=module", "-e", example],
    {
      cwd: sdkDir,
      env: { ...process.env, BUS_URL: busUrl },
      encoding: "utf8",
      timeout: 60_000,
    },
  );
}

describe("README SDK example", () => {
  it("is there and imports the package by name", () => {
    assert.match(example, /from "@spindle\/sdk"/u);
  });

  for (const [name, url] of [
    ["memory://", "memory://readme"],
    ["embedded://", "embedded://TEMP"],
  ] as const) {
    it(`runs on ${name}`, () => {
      const dir = mkdtempSync(join(tmpdir(), "spindle-readme-"));
      try {
        const r = run(url.replace("TEMP", dir));
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /^billing \{ orderId: 1 \} [0-9a-f-]{36} customer-7 \{\} 1$/mu);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
