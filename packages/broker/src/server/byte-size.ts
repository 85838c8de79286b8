// Byte sizes as RabbitMQ writes them ("50MB", "1GiB", "512k") and memory watermarks (bytes or a fraction).
// Invariant: a parse either yields a safe non-negative integer (or a fraction in [0, 1]) or a sentence saying why not.

/** Decimal units are powers of 1000 (kB, MB, GB, TB), binary ones powers of 1024 (k, KiB, M, MiB, …). */
const UNITS: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  k: 2 ** 10,
  kib: 2 ** 10,
  m: 2 ** 20,
  mib: 2 ** 20,
  g: 2 ** 30,
  gib: 2 ** 30,
  t: 2 ** 40,
  tib: 2 ** 40,
};

const SIZE = /^(\d+(?:\.\d+)?) ?([a-z]*)$/i;

/** A memory limit: absolute, or relative to the memory available to the process (RabbitMQ's default 0.4). */
export type MemoryWatermark = { readonly bytes: number } | { readonly fraction: number };

/** `"50MB"` → 50000000, `"1GiB"` → 1073741824, `"1024"` → 1024; a string result is the reason it failed. */
export function parseByteSize(text: string): number | string {
  const m = SIZE.exec(text.trim());
  const factor = m === null ? undefined : UNITS[(m[2] ?? "").toLowerCase()];
  if (m === null || factor === undefined) {
    return `invalid size ${JSON.stringify(text)}: use bytes, optionally with a unit (kB, MB, GB, TB, KiB, MiB, GiB, TiB)`;
  }
  const number = m[1] ?? "";
  if (factor === 1 && number.includes("."))
    return `invalid size ${JSON.stringify(text)}: bytes must be whole`;
  const bytes = Math.round(Number(number) * factor);
  if (!Number.isSafeInteger(bytes)) return `invalid size ${JSON.stringify(text)}: too large`;
  return bytes;
}

/** A number from 0 to 1 without a unit is a fraction of memory; anything else is a byte size. */
export function parseMemoryWatermark(text: string): MemoryWatermark | string {
  const t = text.trim();
  if (/^(0|1)?(\.\d+)?$/.test(t) && t !== "" && t !== ".") {
    const fraction = Number(t);
    if (fraction <= 1) return { fraction };
  }
  const bytes = parseByteSize(t);
  if (typeof bytes === "string") {
    return `invalid memory watermark ${JSON.stringify(text)}: use a fraction of total memory from 0 to 1 (e.g. 0.4) or bytes with a unit (e.g. 2GB)`;
  }
  return { bytes };
}

/** The watermark in bytes, given the memory available to the process. */
export function watermarkBytes(w: MemoryWatermark, availableBytes: number): number {
  return "bytes" in w ? w.bytes : Math.floor(w.fraction * availableBytes);
}
