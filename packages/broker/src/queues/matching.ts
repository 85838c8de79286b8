// Routing predicates for topic patterns and headers bindings, as RabbitMQ evaluates them.
// Invariant: pure functions; `*` matches exactly one word, `#` zero or more, words split on '.'.

/** Topic match: words of `key` against `pattern`, backtracking only at `#`. */
export function topicMatches(pattern: string, key: string): boolean {
  return matchWords(words(pattern), 0, words(key), 0);
}

/** RabbitMQ treats the empty key as zero words, so `*` does not match it and `#` does. */
function words(s: string): string[] {
  return s === "" ? [] : s.split(".");
}

function matchWords(p: string[], pi: number, k: string[], ki: number): boolean {
  while (pi < p.length) {
    const w = p[pi];
    if (w === "#") {
      if (pi === p.length - 1) return true;
      for (let skip = ki; skip <= k.length; skip++) if (matchWords(p, pi + 1, k, skip)) return true;
      return false;
    }
    if (ki >= k.length) return false;
    if (w !== "*" && w !== k[ki]) return false;
    pi++;
    ki++;
  }
  return ki === k.length;
}

/** Headers exchange: `x-match` all (default) / any, with `-with-x` variants that also compare x- keys. */
export function headersMatch(
  bindingArgs: Readonly<Record<string, unknown>>,
  headers: Readonly<Record<string, unknown>> | undefined,
): boolean {
  const mode = typeof bindingArgs["x-match"] === "string" ? bindingArgs["x-match"] : "all";
  const withX = mode.endsWith("-with-x");
  const any = mode.startsWith("any");
  const h = headers ?? {};
  for (const [k, v] of Object.entries(bindingArgs)) {
    if (k === "x-match" || (!withX && k.startsWith("x-"))) continue;
    const present = Object.hasOwn(h, k);
    const ok = present && (v === undefined || v === null ? true : sameValue(v, h[k]));
    if (any && ok) return true;
    if (!any && !ok) return false;
  }
  return !any;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return JSON.stringify(a) === JSON.stringify(b);
}
