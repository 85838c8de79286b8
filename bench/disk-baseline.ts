// The machine's own limits, measured in the same run as the figures compared against them:
// sequential write with one fdatasync per MiB (from node, and dd's), and 4 KiB write+fdatasync round trips per second.

import { spawnSync } from "node:child_process";
import { promises as fsp, rmSync } from "node:fs";
import { join } from "node:path";

export interface DiskBaseline {
  seqWriteMBps: number;
  syncWritesPerSec: number;
}

export async function measureDisk(dir: string, totalMiB = 512, seconds = 2): Promise<DiskBaseline> {
  const path = join(dir, "baseline.bin");
  const chunk = Buffer.alloc(1024 * 1024, 7);
  let fh = await fsp.open(path, "w");
  let t0 = performance.now();
  for (let i = 0; i < totalMiB; i++) {
    await fh.write(chunk, 0, chunk.length, i * chunk.length);
    await fh.datasync();
  }
  const seqWriteMBps = totalMiB / ((performance.now() - t0) / 1000);
  await fh.close();
  await fsp.rm(path);

  fh = await fsp.open(path, "w");
  const page = Buffer.alloc(4096, 9);
  let n = 0;
  t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    await fh.write(page, 0, page.length, n * page.length);
    await fh.datasync();
    n++;
  }
  const syncWritesPerSec = n / ((performance.now() - t0) / 1000);
  await fh.close();
  await fsp.rm(path);
  return { seqWriteMBps, syncWritesPerSec };
}

/**
 * `dd if=/dev/zero of=DIR/dd.bin bs=1M count=MIB oflag=dsync` in `dir`'s filesystem: sequential writes with a
 * sync per MiB, as the issue measures the disk (MB/s, 10^6 bytes). null when dd is missing or fails.
 */
export function measureDd(dir: string, mib: number): number | null {
  const path = join(dir, "dd.bin");
  const r = spawnSync("dd", ["if=/dev/zero", `of=${path}`, "bs=1M", `count=${mib}`, "oflag=dsync"], {
    encoding: "utf8",
    timeout: 600_000,
  });
  rmSync(path, { force: true });
  // "1073741824 bytes (1.1 GB, 1.0 GiB) copied, 1.17 s, 916 MB/s": bytes and seconds, not the rounded rate
  const m = /^(\d+) bytes .* copied, ([\d.]+) s/m.exec(r.stderr ?? "");
  if (r.status !== 0 || m === null) return null;
  return Number(m[1]) / Number(m[2]) / 1e6;
}
