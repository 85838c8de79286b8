// How the open-file limit (`ulimit -n`) is shared: a reserve for the runtime and short-lived opens, client
// connections, and the segment files of logs. Invariant: reserve + connections + log files = the limit.

import { readFileSync } from "node:fs";
import { LIMITS } from "../lib/index.ts";

/** Used when /proc/self/limits cannot be read (not Linux): the usual default soft limit. */
export const FALLBACK_FD_LIMIT = 1024;
/** Segment files kept open at least, whatever --max-connections leaves. */
const LOG_FILES_MIN = 32;

export type FdLimit = { readonly limit: number; readonly source: string };

/** The soft "Max open files" from /proc/self/limits ("unlimited" counts as a very large number). */
export function parseOpenFileLimit(text: string): number | null {
  const m = /^Max open files\s+(\S+)/m.exec(text);
  if (m === null) return null;
  if (m[1] === "unlimited") return 1 << 30;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/** Node has no getrlimit: the kernel's account of this process is read instead (Node already raised the
 *  soft limit to the hard one at start, so this is what the process may use). */
export function readOpenFileLimit(
  read: () => string = () => readFileSync("/proc/self/limits", "utf8"),
): FdLimit {
  try {
    const n = parseOpenFileLimit(read());
    if (n !== null) return { limit: n, source: "/proc/self/limits" };
  } catch {
    // not Linux, or /proc is not mounted: fall through to the default
  }
  return { limit: FALLBACK_FD_LIMIT, source: "default" };
}

export type FdBudget = {
  readonly fdLimit: number;
  readonly reserve: number;
  /** client connections admitted at once, AMQP + Kafka + HTTP */
  readonly maxConnections: number;
  /** segment files kept open at once across all logs */
  readonly logFiles: number;
  /** logs (partitions, 2 per durable queue) that may be created: each can keep its active segment open,
   *  with an eighth of the files left for reads of sealed segments */
  readonly logsMax: number;
  /** set when --max-connections leaves fewer descriptors for log files than they need */
  readonly overcommitted: boolean;
};

/** Splits `fdLimit`; without an explicit connection limit connections and log files get half each. */
export function fdBudget(fdLimit: number, maxConnections: number | "auto"): FdBudget {
  const reserve = Math.min(fdLimit, Math.max(LIMITS.fdReserveMin, Math.floor(fdLimit / 20)));
  const rest = fdLimit - reserve;
  const connections = maxConnections === "auto" ? Math.max(1, Math.floor(rest / 2)) : maxConnections;
  const left = rest - connections;
  const logFiles = Math.max(LOG_FILES_MIN, left);
  const logsMax = Math.max(1, logFiles - Math.max(4, Math.floor(logFiles / 8)));
  return {
    fdLimit,
    reserve,
    maxConnections: connections,
    logFiles,
    logsMax,
    overcommitted: left < LOG_FILES_MIN,
  };
}

/** What an operator changes for more connections or logs; named in refusals and warnings. */
export function fdHint(budget: FdBudget): string {
  return (
    `raise ulimit -n (now ${budget.fdLimit}) before starting spindle, ` +
    `or lower --max-connections (now ${budget.maxConnections})`
  );
}
