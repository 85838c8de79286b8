// The NATS server on 127.0.0.1:4222 (JetStream on) as tests use it: removal of the streams a run made.
// Invariant: only streams whose names carry the run's marker are deleted, never others.

import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

export const NATS_URL = "nats://127.0.0.1:4222";

/** Deletes the streams whose names contain `marker` (tests' unique names carry the pid); returns how many. */
export async function deleteNatsStreams(marker: string): Promise<number> {
  const nc = await connect({ servers: "127.0.0.1:4222" });
  let n = 0;
  try {
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names()) {
      if (name.includes(marker)) {
        await jsm.streams.delete(name);
        n++;
      }
    }
  } finally {
    await nc.close();
  }
  return n;
}
