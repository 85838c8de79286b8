// The coordinator with the real topics, groups and stores on a crash-modelling in-memory disk, for tests.

import { encodeRecordBatch, TRANSACTIONAL_FLAG } from "@spindle/protocol";
import { crc32c } from "../../lib/index.ts";
import type { FakeClock, FaultFs } from "../../testing/index.ts";
import { GROUP_FSYNC, topicsOnFaultFs } from "../../testing/topics-on-fault-fs.ts";
import { DEFAULT_GROUP_TIMINGS } from "../group-types.ts";
import { Groups } from "../groups.ts";
import { ProducerIds } from "../producer-ids.ts";
import { Transactions } from "./coordinator.ts";
import { TxnStore } from "./txn-store.ts";

export async function openAll(fs: FaultFs, clock: FakeClock) {
  const { logger, meta, topics } = await topicsOnFaultFs(fs, clock);
  const groups = await Groups.open({
    fs,
    dir: "/data/offsets",
    clock,
    logger,
    fsync: GROUP_FSYNC,
    timings: DEFAULT_GROUP_TIMINGS,
  });
  const store = await TxnStore.open({ fs, dir: "/data/transactions", clock, logger, fsync: GROUP_FSYNC });
  const producerIds = new ProducerIds(meta);
  const txns = await Transactions.open({
    store,
    topics,
    groups,
    producerIds,
    clock,
    logger,
    abortCheckMs: 1000,
  });
  const close = async () => {
    await txns.close();
    await groups.close();
    await topics.close();
    await meta.close();
  };
  return { meta, topics, groups, store, txns, close, logger };
}

export function txnBatch(producerId: number, epoch: number, seq: number, values: string[]): Buffer {
  return encodeRecordBatch(
    {
      records: values.map((v) => ({ value: Buffer.from(v) })),
      timestamp: 1,
      attributes: TRANSACTIONAL_FLAG,
      producerId,
      producerEpoch: epoch,
      baseSequence: seq,
    },
    crc32c,
  );
}
