// The metric names a Grafana dashboard's PromQL queries (panel targets and template variables), for the test
// that every one of them is exposed by /metrics.
// Invariant: label names and values, ranges, functions, aggregation clauses and keywords are never taken for
// metric names; an expression with no metric name in it fails, so a query cannot pass by being unreadable.

import assert from "node:assert/strict";

const KEYWORDS = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
]);

/** Every `expr` of every target, and every variable's query, anywhere in the dashboard JSON. */
function queries(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const x of node) queries(x, out);
  else if (node !== null && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "expr" && typeof v === "string") out.push(v);
      else if (k === "query" && typeof v === "string" && v.includes("label_values(")) out.push(v);
      else if (k === "query" && v !== null && typeof v === "object" && "query" in v) queries([v], out);
      else queries(v, out);
    }
  }
  return out;
}

/** Metric names in one PromQL expression (or a `label_values(metric{…}, label)` variable query). */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/label_values\(([^,{)]+)(\{[^}]*\})?\s*,[^)]*\)/g, "$1") // label_values(metric{…}, label)
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""') // strings
    .replace(/\{[^}]*\}/g, " ") // label matchers
    .replace(/\[[^\]]*\]/g, " ") // ranges and subqueries
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " "); // label lists
  const names: string[] = [];
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?/g)) {
    const [token, call] = m;
    const name = token.replace(/\s*\($/, "");
    if (call !== undefined || KEYWORDS.has(name) || /^\d/.test(name)) continue;
    names.push(name);
  }
  assert.ok(names.length > 0, `no metric name found in ${expr}`);
  return names;
}

export function dashboardMetricNames(dashboard: unknown): Set<string> {
  const names = new Set<string>();
  for (const q of queries(dashboard)) for (const n of promqlMetricNames(q)) names.add(n);
  return names;
}
