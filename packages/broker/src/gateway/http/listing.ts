// Lists as RabbitMQ's management API answers them: `name`/`use_regex` filter, `sort`/`sort_reverse`,
// `page`/`page_size` (then an object with the counts and `items`), and `columns` (dotted paths).
// Invariant: only the items on the page are shaped when the sort needs no shaped field, so a page of a
// 10,000-queue list does not build 10,000 objects; the default order is by name, as RabbitMQ's.

import type { Context } from "hono";
import { BrokerError } from "../../lib/index.ts";

export type Json = Record<string, unknown>;

export interface Lister<T> {
  /** the name the default sort and the `name` filter use */
  readonly name: (item: T) => string;
  /** the item's JSON object; `want` (from `columns`) may leave out top-level fields not asked for */
  readonly shape: (item: T, want?: (key: string) => boolean) => Json;
}

const PAGE_SIZE_DEFAULT = 100;
const PAGE_SIZE_MAX = 500;

const bad = (reason: string) => new BrokerError("INVALID_REQUEST", reason);

/** The reply for a list endpoint. */
export function listReply<T>(c: Context, items: readonly T[], lister: Lister<T>): Response {
  return c.json(listBody(new URL(c.req.url).searchParams, items, lister));
}

export function listBody<T>(q: URLSearchParams, all: readonly T[], lister: Lister<T>): unknown {
  const page = pagination(q);
  const filtered = filterByName(q, all, lister);
  const columns = parseColumns(q.get("columns"));
  const sortKey = q.get("sort");
  let rows: (T | Json)[];
  let shaped = false;
  if (sortKey === "") rows = [...filtered];
  else if (sortKey === null || sortKey === "name") rows = byName(filtered, lister);
  else {
    const path = sortKey.split(".");
    const want = wanted(columns, path[0] ?? "");
    rows = sortBy(
      filtered.map((x) => lister.shape(x, want)),
      path,
    );
    shaped = true;
  }
  if (q.get("sort_reverse") === "true") rows.reverse();
  const want = wanted(columns);
  const finish = (xs: (T | Json)[]) =>
    xs.map((x) => project(shaped ? (x as Json) : lister.shape(x as T, want), columns));
  if (page === null) return finish(rows);
  const start = (page.page - 1) * page.size;
  if (start > rows.length) {
    throw bad(`Page out of range, page: ${page.page} page size: ${page.size}, len: ${rows.length}`);
  }
  const items = finish(rows.slice(start, start + page.size));
  return {
    filtered_count: filtered.length,
    item_count: items.length,
    items,
    page: page.page,
    page_count: Math.ceil(filtered.length / page.size),
    page_size: page.size,
    total_count: all.length,
  };
}

function pagination(q: URLSearchParams): { page: number; size: number } | null {
  const p = q.get("page");
  if (p === null) return null;
  const s = q.get("page_size");
  const page = Number(p);
  const size = s === null ? PAGE_SIZE_DEFAULT : Number(s);
  if (!Number.isInteger(page) || page < 1 || !Number.isInteger(size) || size < 1 || size > PAGE_SIZE_MAX) {
    throw bad(
      `Invalid pagination parameters: page number ${p}, page size ${s ?? PAGE_SIZE_DEFAULT} (page ≥ 1, page_size 1-${PAGE_SIZE_MAX})`,
    );
  }
  return { page, size };
}

function filterByName<T>(q: URLSearchParams, all: readonly T[], lister: Lister<T>): readonly T[] {
  const name = q.get("name");
  if (name === null || name === "") return all;
  if (q.get("use_regex") === "true") {
    let re: RegExp;
    try {
      re = new RegExp(name, "i");
    } catch (e) {
      throw bad(`'name' is not a valid regular expression: ${(e as Error).message}`);
    }
    return all.filter((x) => re.test(lister.name(x)));
  }
  const lower = name.toLowerCase();
  return all.filter((x) => lister.name(x).toLowerCase().includes(lower));
}

function byName<T>(items: readonly T[], lister: Lister<T>): T[] {
  const keyed = items.map((item) => ({ key: lister.name(item), item }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.item);
}

/** Erlang's term order, which RabbitMQ sorts by: numbers, then atoms (booleans, null), then strings;
 *  a missing field counts as 0. */
function rank(v: unknown): number {
  if (typeof v === "number") return 0;
  if (typeof v === "string") return 2;
  return 1;
}

function compareValues(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === "number" && typeof b === "number") return a - b;
  const sa = typeof a === "string" ? a : (JSON.stringify(a) ?? "");
  const sb = typeof b === "string" ? b : (JSON.stringify(b) ?? "");
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function dotted(item: Json, path: readonly string[]): unknown {
  let v: unknown = item;
  for (const k of path) {
    if (v === null || typeof v !== "object") return 0;
    v = (v as Json)[k];
  }
  return v ?? 0;
}

function sortBy(items: Json[], path: readonly string[]): Json[] {
  const keyed = items.map((item) => ({ key: dotted(item, path), name: String(item.name ?? ""), item }));
  keyed.sort((a, b) => compareValues(a.key, b.key) || compareValues(a.name, b.name));
  return keyed.map((k) => k.item);
}

/** Column paths as a tree: a field with `true` is kept whole, one with a tree keeps only its fields. */
interface Columns {
  readonly [field: string]: Columns | true;
}

function parseColumns(raw: string | null): Columns | "all" {
  if (raw === null || raw === "") return "all";
  const root: Record<string, Columns | true> = {};
  for (const c of raw.split(",")) {
    const path = c.split(".").filter((p) => p !== "");
    let node = root;
    for (let i = 0; i < path.length; i++) {
      const k = path[i] as string;
      const at = node[k];
      if (at === true) break;
      if (i === path.length - 1) {
        node[k] = true;
        break;
      }
      const next: Record<string, Columns | true> = at ?? {};
      node[k] = next;
      node = next;
    }
  }
  return root;
}

/** The top-level fields the columns (and a sort key) need, for a lister to build only those. */
function wanted(columns: Columns | "all", sortKey = "name"): ((key: string) => boolean) | undefined {
  if (columns === "all") return undefined;
  return (key) => key === "name" || key === sortKey || key in columns;
}

/** Keeps the fields the columns name; `a.b` keeps `b` inside `a` (RabbitMQ's extract_column_items). */
export function project(item: unknown, columns: Columns | "all"): unknown {
  if (columns === "all" || item === null || typeof item !== "object") return item;
  if (Array.isArray(item)) return item.map((x) => project(x, columns));
  const from = item as Json;
  const out: Json = {};
  for (const k in columns) {
    if (!(k in from)) continue;
    const sub = columns[k] as Columns | true;
    out[k] = sub === true ? from[k] : project(from[k], sub);
  }
  return out;
}
