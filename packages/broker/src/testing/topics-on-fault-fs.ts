// Topics, with the meta store that keeps their definitions, on a FaultFs under /data: the setup of the tests
// of what topics do with their logs (retention, the cleaner, transactions). Test support only.

import { MetaStore } from "../meta/index.ts";
import { Topics, type TopicsOptions } from "../streams/topics.ts";
import type { FakeClock } from "./fake-clock.ts";
import type { FaultFs } from "./fault-fs.ts";
import { RecordingLogger } from "./recording-logger.ts";

export const GROUP_FSYNC = { mode: "group" } as const;

/** `extra` adds or overrides Topics options (a cleaner, say); `logger` is shared with what the caller made. */
export async function topicsOnFaultFs(
  fs: FaultFs,
  clock: FakeClock,
  { logger = new RecordingLogger(), ...extra }: Partial<TopicsOptions> & { logger?: RecordingLogger } = {},
) {
  const meta = await MetaStore.open({ fs, dir: "/data/meta", clock, logger, fsync: GROUP_FSYNC });
  const topics = await Topics.open({
    fs,
    dataDir: "/data",
    meta,
    clock,
    logger,
    fsync: GROUP_FSYNC,
    autoCreate: false,
    defaultPartitions: 1,
    retentionCheckMs: 3_600_000,
    ...extra,
  });
  return { logger, meta, topics };
}
