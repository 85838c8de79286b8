// What the admin commands print: aligned tables (rabbitmqadmin's boxed style) for people, JSON for scripts.
// Invariant: a table cell is one line whatever the value holds (control characters are escaped), so
// columns stay aligned; numbers are right-aligned, everything else left-aligned.

export interface Column<T> {
  readonly header: string;
  readonly get: (row: T) => unknown;
}

/** A cell's text: strings as they are (escaped), numbers and booleans as written, objects as compact JSON. */
export function cellText(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return escapeControls(v);
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  return escapeControls(JSON.stringify(v) ?? "");
}

function escapeControls(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is being escaped
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** Display width in code points (good enough for the names and payloads a broker holds). */
const width = (s: string): number => [...s].length;

/** Cuts a cell to `max` code points, marking the cut. */
export function truncate(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join("")}…`;
}

/** The table as lines, e.g. `+------+` / `| name |` / `+------+` / rows / `+------+`. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string[] {
  const cells = rows.map((r) => columns.map((c) => c.get(r)));
  const texts = cells.map((row) => row.map(cellText));
  const widths = columns.map((c, i) => Math.max(width(c.header), ...texts.map((row) => width(row[i] ?? ""))));
  const rule = `+${widths.map((w) => "-".repeat(w + 2)).join("+")}+`;
  const line = (parts: readonly string[], right: (i: number) => boolean) =>
    `| ${parts
      .map((p, i) => {
        const pad = " ".repeat((widths[i] ?? 0) - width(p));
        return right(i) ? pad + p : p + pad;
      })
      .join(" | ")} |`;
  const numeric = columns.map((_, i) => cells.length > 0 && cells.every((row) => isNumeric(row[i])));
  return [
    rule,
    line(
      columns.map((c) => c.header),
      () => false,
    ),
    rule,
    ...texts.map((row) => line(row, (i) => numeric[i] === true)),
    rule,
  ];
}

const isNumeric = (v: unknown): boolean => typeof v === "number" || v === undefined || v === null;

/** Columns for rows of unknown shape: every key the rows have, in first-seen order. */
export function columnsOf(rows: readonly unknown[]): Column<unknown>[] {
  const keys = new Set<string>();
  for (const r of rows) if (typeof r === "object" && r !== null) for (const k of Object.keys(r)) keys.add(k);
  return [...keys].map((k) => ({ header: k, get: (r) => (r as Record<string, unknown>)[k] }));
}

/** A key/value block: `key  value` lines with the keys padded to one width. */
export function keyValues(pairs: ReadonlyArray<readonly [string, unknown]>): string[] {
  const w = Math.max(0, ...pairs.map(([k]) => width(k)));
  return pairs.map(([k, v]) => `${k}${" ".repeat(w - width(k))}  ${cellText(v)}`);
}

/** Machine output: indented JSON, one document. */
export const jsonText = (v: unknown): string => JSON.stringify(v, null, 2) ?? "null";
