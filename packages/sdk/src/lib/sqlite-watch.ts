// Notices commits made to a SQLite file by other connections (other processes included) by polling
// `PRAGMA data_version`, which changes only when another connection commits: a few microseconds per
// check, no table read. Invariant: `onWake` runs within `intervalMs` of any other connection's commit.

import type BetterSqlite3 from "better-sqlite3";
import type { Clock, TimerHandle } from "./clock.ts";

export interface SqliteWatch {
  close(): void;
}

export function sqliteWatch(
  db: BetterSqlite3.Database,
  onWake: () => void,
  clock: Clock,
  intervalMs: number,
): SqliteWatch {
  const version = db.prepare("PRAGMA data_version").pluck();
  let last = version.get();
  let timer: TimerHandle | undefined;
  let closed = false;
  const tick = (): void => {
    if (closed || !db.open) return;
    const now = version.get();
    if (now !== last) {
      last = now;
      onWake();
    }
    timer = clock.setTimer(intervalMs, tick);
  };
  timer = clock.setTimer(intervalMs, tick);
  return {
    close: () => {
      closed = true;
      clock.clearTimer(timer);
    },
  };
}
