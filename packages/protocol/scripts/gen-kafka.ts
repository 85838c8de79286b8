// Generates packages/protocol/src/kafka/generated/ from ../shared/specs/kafka-messages (or checks it).
// Invariant: output depends only on the spec files, so `--check` can regenerate and compare byte for byte.
//
// Usage: node --import tsx packages/protocol/scripts/gen-kafka.ts [--check] [--out DIR]

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
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { emitFile, HEADER, rangeText } from "./gen-kafka-emit.ts";
import { isEmpty, loadMessages, type MessageDef } from "./gen-kafka-model.ts";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const specDir = join(repoRoot, "..", "shared", "specs", "kafka-messages");
const committedDir = join(repoRoot, "packages", "protocol", "src", "kafka", "generated");

const kebab = (s: string): string =>
  s
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1-$2")
    .toLowerCase();

function apiName(m: MessageDef): string {
  return m.raw.name.replace(/(Request|Response)$/, "");
}

function generate(outDir: string): void {
  const messages = loadMessages(specDir);
  const requests = new Map<number, MessageDef>();
  const responses = new Map<number, MessageDef>();
  const data: MessageDef[] = [];
  for (const m of messages) {
    if (m.raw.type === "request") requests.set(m.raw.apiKey!, m);
    else if (m.raw.type === "response") responses.set(m.raw.apiKey!, m);
    else data.push(m);
  }
  mkdirSync(outDir, { recursive: true });
  const files: { file: string; names: string[] }[] = [];
  const registry: string[] = [];
  const apiKeys: string[] = [];
  for (const key of [...requests.keys()].sort((a, b) => a - b)) {
    const req = requests.get(key)!;
    const res = responses.get(key);
    if (!res) throw new Error(`${req.file}: no response for apiKey ${key}`);
    if (
      rangeText(req.valid) !== rangeText(res.valid) ||
      rangeText(req.flexible) !== rangeText(res.flexible)
    ) {
      throw new Error(`${req.file}: request and response disagree on versions`);
    }
    const name = apiName(req);
    const file = `${kebab(name)}.ts`;
    const summary = `${name}: apiKey ${key}, versions ${rangeText(req.valid)}, flexible ${rangeText(req.flexible)}.`;
    writeFileSync(join(outDir, file), emitFile([req, res], summary));
    files.push({ file, names: [req.raw.name, res.raw.name] });
    apiKeys.push(`  ${name}: ${key},`);
    const desc = {
      apiKey: key,
      name,
      minVersion: req.valid.lo,
      maxVersion: req.valid.hi,
      flexibleMin: isEmpty(req.flexible) ? null : req.flexible.lo,
      latestVersionUnstable: req.raw.latestVersionUnstable === true,
      listeners: req.raw.listeners ?? [],
    };
    const fns = [req, res].flatMap((m) => [`write${m.raw.name}`, `decode${m.raw.name}`]);
    registry.push(
      `  ${key}: defineApi<${req.raw.name}, ${res.raw.name}>(${JSON.stringify(desc)}, ${fns.join(", ")}),`,
    );
  }
  for (const m of data) {
    const file = `${kebab(m.raw.name)}.ts`;
    const summary = `${m.raw.name}: ${m.raw.type}, versions ${rangeText(m.valid)}, flexible ${rangeText(m.flexible)}.`;
    writeFileSync(join(outDir, file), emitFile([m], summary));
  }
  const index = [
    HEADER,
    "// Every generated Kafka message codec, and the registry of APIs keyed by apiKey.",
    "",
    'import { defineApi, type KafkaApiCodec } from "../codec/api-codec.ts";',
    ...files.map(
      (f) =>
        `import { ${f.names.flatMap((n) => [`type ${n}`, `decode${n}`, `write${n}`]).join(", ")} } from "./${f.file.replace(/\.ts$/, ".ts")}";`,
    ),
    "",
    ...[...files.map((f) => f.file), ...data.map((m) => `${kebab(m.raw.name)}.ts`)].map(
      (f) => `export * from "./${f}";`,
    ),
    "",
    "export const ApiKey = {",
    ...apiKeys,
    "} as const;",
    "export type ApiKey = (typeof ApiKey)[keyof typeof ApiKey];",
    "",
    "export const kafkaApis = {",
    ...registry,
    "} as const;",
    "",
    "const byKey: (KafkaApiCodec | undefined)[] = [];",
    "for (const api of Object.values(kafkaApis) as KafkaApiCodec[]) byKey[api.apiKey] = api;",
    "",
    "/** Every API, in apiKey order. */",
    "export const kafkaApiList: readonly KafkaApiCodec[] = byKey.filter((a): a is KafkaApiCodec => a !== undefined);",
    "",
    "export function getKafkaApi(apiKey: number): KafkaApiCodec | undefined {",
    "  return byKey[apiKey];",
    "}",
    "",
  ].join("\n");
  writeFileSync(join(outDir, "index.ts"), index);
}

function listTs(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".ts")) : [];
}

function check(): number {
  const tmp = mkdtempSync(join(tmpdir(), "spindle-gen-kafka-"));
  try {
    generate(tmp);
    const fresh = listTs(tmp);
    const committed = listTs(committedDir);
    const problems: string[] = [];
    for (const f of fresh) {
      if (!committed.includes(f)) problems.push(`missing: ${f}`);
      else if (readFileSync(join(tmp, f), "utf8") !== readFileSync(join(committedDir, f), "utf8")) {
        problems.push(`differs: ${f}`);
      }
    }
    for (const f of committed) if (!fresh.includes(f)) problems.push(`stale: ${f}`);
    if (problems.length > 0) {
      console.error(
        `generated Kafka codecs are out of date (run npm run gen:kafka):\n  ${problems.join("\n  ")}`,
      );
      return 1;
    }
    console.log(`generated Kafka codecs are up to date (${fresh.length} files)`);
    return 0;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function main(argv: string[]): number {
  if (!existsSync(specDir)) {
    console.log(`skipping Kafka codec generation: ${specDir} is absent`);
    return 0;
  }
  if (argv.includes("--check")) return check();
  const outAt = argv.indexOf("--out");
  const outDir = outAt >= 0 ? argv[outAt + 1] : committedDir;
  if (!outDir) throw new Error("--out needs a directory");
  if (outDir === committedDir) {
    for (const f of listTs(committedDir)) rmSync(join(committedDir, f));
  }
  generate(outDir);
  console.log(`wrote ${listTs(outDir).length} files to ${outDir}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
