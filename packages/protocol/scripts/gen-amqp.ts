// Generates packages/protocol/src/amqp/generated/{constants,methods,properties}.ts from RabbitMQ's JSON spec.
// Invariant: output depends only on the spec file, so `--check` can regenerate into a temp dir and diff.
// Usage: node --import tsx packages/protocol/scripts/gen-amqp.ts [--check] [--out <dir>] [--spec <file>]
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { emitAll, SPEC_DIR, type Spec } from "./gen-amqp-emit.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const specFile = argValue("--spec") ?? join(repoRoot, SPEC_DIR, "amqp-rabbitmq-0.9.1.json");
const committedDir = join(repoRoot, "packages/protocol/src/amqp/generated");
const checking = process.argv.includes("--check");
if (!existsSync(specFile)) {
  if (checking) {
    console.log(`skipping AMQP codec check: ${specFile} is absent`);
    process.exit(0);
  }
  console.error(`gen-amqp: spec not found at ${specFile}`);
  process.exit(2);
}
const spec = JSON.parse(readFileSync(specFile, "utf8")) as Spec;

const FILES = emitAll(spec);

function generate(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(FILES)) writeFileSync(join(dir, name), text);
}

function check(): number {
  const tmp = mkdtempSync(join(tmpdir(), "spindle-gen-amqp-"));
  try {
    generate(tmp);
    const committed = existsSync(committedDir)
      ? readdirSync(committedDir).filter((f) => f.endsWith(".ts"))
      : [];
    const problems: string[] = [];
    for (const f of Object.keys(FILES)) {
      if (!committed.includes(f)) problems.push(`missing: ${f}`);
      else if (readFileSync(join(tmp, f), "utf8") !== readFileSync(join(committedDir, f), "utf8")) {
        problems.push(`differs: ${f}`);
      }
    }
    for (const f of committed) if (!(f in FILES)) problems.push(`stale: ${f}`);
    if (problems.length > 0) {
      console.error(
        `generated AMQP codecs are out of date (run npm run gen:amqp):\n  ${problems.join("\n  ")}`,
      );
      return 1;
    }
    console.log(`generated AMQP codecs are up to date (${committed.length} files)`);
    return 0;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (checking) process.exit(check());
const outDir = argValue("--out") ?? committedDir;
generate(outDir);
console.log(`gen-amqp: wrote ${Object.keys(FILES).join(", ")} to ${outDir}`);
