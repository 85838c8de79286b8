// Prints benchmark rows as an aligned Markdown table, so results paste into notes unchanged.
// Every benchmark under bench/ reports through this one function.

export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(`\n### ${title}\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of cells.slice(1)) console.log(line(r));
}

export const mb = (bytes: number) => bytes / (1024 * 1024);
export const fmt = (n: number, digits = 1) => n.toFixed(digits);
