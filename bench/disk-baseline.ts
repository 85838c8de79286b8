// The machine's own limits, measured in the same run as the figures compared against them:
// sequential write with one fdatasync per MiB, and 4 KiB write+fdatasync round trips per second.

import { promises as fsp } from "node:fs";
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
