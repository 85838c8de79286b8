// Number, byte, rate and time formatting for tables and charts.
// Invariant: every formatter accepts undefined/NaN and shows "–" rather than "NaN" or "undefined".

const dash = "–";

function ok(n: number | undefined | null): n is number {
  return typeof n === "number" && Number.isFinite(n);
}

export function num(n: number | undefined | null): string {
  return ok(n) ? n.toLocaleString("en-US") : dash;
}

export function rate(n: number | undefined | null): string {
  if (!ok(n)) return dash;
  const digits = n !== 0 && Math.abs(n) < 10 ? 1 : 0;
  return `${n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })}/s`;
}

const COMPACT = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 2 });

/** 1.2K, 3.5M: for chart axes, where width is short. */
export function compact(n: number): string {
  return COMPACT.format(n);
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function bytes(n: number | undefined | null): string {
  if (!ok(n)) return dash;
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u += 1;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${UNITS[u]}`;
}

export function time(ms: number | undefined | null): string {
  if (!ok(ms)) return dash;
  const d = new Date(ms);
  const pad = (x: number, w = 2) => String(x).padStart(w, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** `x_details.rate` of a RabbitMQ stats object, if present. */
export function detailRate(stats: Record<string, unknown> | undefined, key: string): number | undefined {
  const details = stats?.[`${key}_details`] as { rate?: unknown } | undefined;
  return typeof details?.rate === "number" ? details.rate : undefined;
}
