// A progress bar on stderr for long operations (queue moves, producing a file), drawn only on a terminal.
// Invariant: nothing is written when stderr is not a TTY, and the bar's line is cleared before results.

const WIDTH = 30;
const REDRAW_MS = 100;

export interface Progress {
  /** `done` of `total` units so far (`total` may be unknown: 0) */
  update(done: number, total: number): void;
  /** removes the bar */
  finish(): void;
}

const SILENT: Progress = { update: () => {}, finish: () => {} };

/** The bar's text, e.g. `moving [==========>          ]  34% 3400/10000 1.2k/s`. */
export function barLine(label: string, done: number, total: number, elapsedMs: number, unit = ""): string {
  const rate = elapsedMs > 0 ? `${compact((done * 1000) / elapsedMs)}${unit}/s` : "";
  if (total <= 0) return `${label} ${compact(done)}${unit} ${rate}`.trimEnd();
  const frac = Math.min(1, done / total);
  const filled = Math.floor(frac * WIDTH);
  const bar = "=".repeat(filled) + (filled < WIDTH ? ">" : "") + " ".repeat(Math.max(0, WIDTH - filled - 1));
  const pct = `${Math.floor(frac * 100)}%`.padStart(4);
  return `${label} [${bar}] ${pct} ${compact(done)}${unit}/${compact(total)}${unit} ${rate}`.trimEnd();
}

/** 1234 → 1.2k, 5_600_000 → 5.6M (units of 1000). */
export function compact(n: number): string {
  if (n < 1000) return String(Math.round(n));
  for (const [div, suffix] of [
    [1e9, "G"],
    [1e6, "M"],
    [1e3, "k"],
  ] as const) {
    if (n >= div) return `${(n / div).toFixed(1).replace(/\.0$/, "")}${suffix}`;
  }
  return String(n);
}

/** A bar on `tty` (null: not a terminal, nothing drawn). */
export function progressBar(tty: NodeJS.WriteStream | null, label: string, unit = ""): Progress {
  if (tty === null) return SILENT;
  const started = performance.now();
  let drawnAt = Number.NEGATIVE_INFINITY;
  let shown = false;
  return {
    update(done, total) {
      const now = performance.now();
      if (now - drawnAt < REDRAW_MS && done < total) return;
      drawnAt = now;
      const text = barLine(label, done, total, now - started, unit);
      const columns = tty.columns > 0 ? tty.columns : 80; // a pty without a size reports 0
      tty.write(`\r${text.slice(0, Math.max(0, columns - 1))}\x1b[K`);
      shown = true;
    },
    finish() {
      if (shown) tty.write("\r\x1b[K");
    },
  };
}
