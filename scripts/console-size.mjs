// Prints the gzip size of what the console's first page loads (index.html and the JS and CSS it links),
// and fails past the budget. Invariant: counts every local file index.html references, so a new chunk or
// stylesheet cannot slip past the budget.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const BUDGET_BYTES = 150 * 1024;
const dir = fileURLToPath(new URL("../packages/broker/dist/console/", import.meta.url));
const html = readFileSync(join(dir, "index.html"), "utf8");
const files = ["index.html", ...[...html.matchAll(/(?:src|href)="\.?\/?(assets\/[^"]+)"/g)].map((m) => m[1])];
const sizes = files.map((f) => {
  const raw = readFileSync(join(dir, f));
  return { f, raw: raw.length, gzip: gzipSync(raw, { level: 9 }).length };
});
const total = sizes.reduce((s, x) => s + x.gzip, 0);
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
if (process.argv.includes("--verbose"))
  for (const s of sizes) console.log(`${s.f}\t${kb(s.raw)}\t${kb(s.gzip)} gzip`);
console.log(`console first page: ${kb(total)} gzip (${files.length} files; budget ${kb(BUDGET_BYTES)})`);
if (total > BUDGET_BYTES) {
  console.error("console-size: the first page is over budget; split or drop what it loads");
  process.exit(1);
}
