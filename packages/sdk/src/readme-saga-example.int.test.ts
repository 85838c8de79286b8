// The README's saga example runs as written: extracted from README.md and run in a fresh node process on
// memory://.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import { fileURLToPath } from "node:url";

const sdkDir = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(join(sdkDir, "../../README.md"), "utf8");
const section = readme.slice(readme.indexOf("### Sagas"));
const example = /```ts\n([\s\S]*?)```/u.exec(section)?.[1] ?? "";

it("the README's saga example runs", () => {
  assert.match(example, /from "@spindle\/sdk"/u);
  const r = spawnSync(
    process.execPath,
    ["--conditions=source", "--import", "tsx", "--input-type=module", "-e", example],
    {
      cwd: sdkDir,
      env: { ...process.env, BUS_URL: "memory://readme-sagas" },
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "compensated charge failed: card declined started,succeeded,failed,compensated\n");
});
