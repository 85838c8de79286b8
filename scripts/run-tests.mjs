// Runs every test file that needs no outside service: unit (*.test.ts) and integration (*.int.test.ts)
// under packages/*/src, test/ and examples/. Files are listed explicitly because Node 20's --test glob can miss .ts.
// Tests import the TypeScript sources (the `source` export condition) but start `spindle` from its built
// JavaScript, so the build runs first: a stale dist/ would test yesterday's broker.
// Usage: node scripts/run-tests.mjs [filter-substring ...]
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const roots = ["packages", "test", "examples"];
const skipDirs = new Set(["node_modules", "generated", "conformance", "fixtures"]);

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!skipDirs.has(name)) walk(path, out);
    } else if (name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = roots
  .flatMap((r) => walk(r, []))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
const build = spawnSync("npm", ["run", "--silent", "build"], { stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);
const concurrency = process.env.TEST_CONCURRENCY ?? "2";
const r = spawnSync(
  process.execPath,
  // --test-force-exit: a test file whose test failed with a broker still running would otherwise never
  // exit; on exit, test/support kills the processes it started.
  [
    "--conditions=source",
    "--import",
    "tsx",
    "--test",
    "--test-force-exit",
    `--test-concurrency=${concurrency}`,
    ...files,
  ],
  { stdio: "inherit" },
);
process.exit(r.status ?? 1);
