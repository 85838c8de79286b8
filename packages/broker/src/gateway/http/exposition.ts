// Prometheus' text exposition format (version 0.0.4), written by hand: one string built per scrape.
// Invariant: every family has its HELP and TYPE line before its samples, and each family is written once;
// label values are escaped (\\, ", newline) so any queue or topic name gives a valid line.

export type MetricType = "counter" | "gauge" | "histogram" | "untyped";

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Escapes a label value; most names need nothing, and are returned as they are. */
export function labelValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n") : v;
}

/** `{a="x",b="y"}` from pairs; keys are our own names and need no escaping. */
export function labelSet(pairs: Readonly<Record<string, string | number>>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(pairs)) parts.push(`${k}="${labelValue(String(v))}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function formatValue(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return Number.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
}

export class Exposition {
  private text = "";
  private readonly written = new Set<string>();

  /** Starts a family; its samples follow. A counter's name ends in `_total` (what promtool asks). */
  family(name: string, type: MetricType, help: string): this {
    if (this.written.has(name)) throw new Error(`metric family ${name} is written twice`);
    this.written.add(name);
    this.text += `# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}\n# TYPE ${name} ${type}\n`;
    return this;
  }

  /** One sample; `labels` is a `labelSet()` string (built once per object and reused across families). */
  sample(name: string, labels: string, value: number): this {
    this.text += `${name}${labels} ${formatValue(value)}\n`;
    return this;
  }

  /** A family with one sample and no labels. */
  single(name: string, type: MetricType, help: string, value: number): this {
    return this.family(name, type, help).sample(name, "", value);
  }

  /** A histogram from per-bucket (not cumulative) counts; `counts` has one more slot than `bounds` (+Inf). */
  histogram(
    name: string,
    help: string,
    bounds: readonly number[],
    counts: ArrayLike<number>,
    sum: number,
  ): this {
    this.family(name, "histogram", help);
    let cumulative = 0;
    for (let i = 0; i < bounds.length; i++) {
      cumulative += counts[i] ?? 0;
      this.sample(`${name}_bucket`, `{le="${bounds[i]}"}`, cumulative);
    }
    cumulative += counts[bounds.length] ?? 0;
    this.sample(`${name}_bucket`, `{le="+Inf"}`, cumulative);
    this.sample(`${name}_sum`, "", sum);
    return this.sample(`${name}_count`, "", cumulative);
  }

  /** Text already in the format (another registry's), appended as it is. */
  raw(text: string): this {
    this.text += text.endsWith("\n") || text === "" ? text : `${text}\n`;
    return this;
  }

  toString(): string {
    return this.text;
  }
}
