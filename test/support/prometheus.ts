// Reading a /metrics scrape in tests: samples by name and labels, the families it declares, and
// `promtool check metrics` (Debian's `prometheus` package) on the text.
// Invariant: a scrape that does not parse, or a missing promtool, fails the test with a message saying why.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function unescapeLabel(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
}

export function parseScrape(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = SAMPLE.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(LABEL)) labels[k!] = unescapeLabel(v!);
    const raw = m[3]!;
    out.push({
      name: m[1]!,
      labels,
      value: raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw),
    });
  }
  return out;
}

/** The names a scrape exposes: every family's `# TYPE` name, and a histogram's `_bucket`, `_sum`, `_count`. */
export function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m;
    names.add(name!);
    if (type === "histogram" || type === "summary")
      for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${name}${suffix}`);
  }
  return names;
}

/** The one sample of `name` whose labels include `labels`; fails when there is none or more than one. */
export function value(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  assert.equal(found.length, 1, `${name}${JSON.stringify(labels)}: ${found.length} samples`);
  return found[0]!.value;
}

/** Runs `promtool check metrics` on the scrape; fails with promtool's findings, or says how to install it. */
export function promtoolCheck(text: string): void {
  const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") {
    assert.fail("promtool is not installed: `apt-get install prometheus` (Debian) puts it on the PATH");
  }
  assert.equal(r.status, 0, `promtool check metrics found problems:\n${r.stdout}${r.stderr}`);
}
