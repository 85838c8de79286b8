// When an append counts as done: after an fdatasync that covers it (group, always), or earlier (interval,
// never) where the operator chose speed over durability. Parsed from `--fsync` by server/.

export type FsyncPolicy =
  | { mode: "group" }
  | { mode: "always" }
  | { mode: "interval"; intervalMs: number }
  | { mode: "never" };

export const DEFAULT_FSYNC: FsyncPolicy = { mode: "group" };

/** Parses `group|always|interval:MS|never`; returns an error message for anything else. */
export function parseFsyncPolicy(text: string): FsyncPolicy | string {
  if (text === "group" || text === "always" || text === "never") return { mode: text };
  const m = /^interval:(\d+)$/.exec(text);
  if (m) {
    const intervalMs = Number(m[1]);
    if (intervalMs >= 1 && intervalMs <= 3_600_000) return { mode: "interval", intervalMs };
  }
  return `invalid fsync policy "${text}": use group, always, interval:MS (1..3600000) or never`;
}

/** Whether an append may be acknowledged only after its data is on disk. Such logs open their segments
 *  with O_DSYNC: one system call writes and syncs a group (write + fdatasync took a second trip through
 *  the thread pool and a second wake-up of the event loop per group). */
export function acksAfterSync(p: FsyncPolicy): boolean {
  return p.mode === "group" || p.mode === "always";
}

export function formatFsyncPolicy(p: FsyncPolicy): string {
  return p.mode === "interval" ? `interval:${p.intervalMs}` : p.mode;
}
