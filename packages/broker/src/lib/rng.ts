// Randomness as an injected dependency: tests pass a seeded generator and replay any failure.
// mulberry32: small, fast, good enough for fault schedules (not for cryptography).

export interface Rng {
  /** uniform in [0, 1) */
  next(): number;
  int(maxExclusive: number): number;
}

export function seededRng(seed: number): Rng {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (max) => Math.floor(next() * max) };
}

export const mathRng: Rng = { next: Math.random, int: (max) => Math.floor(Math.random() * max) };
