// The transport contract suite on kafka:// against a real `spindle` process's Kafka port; the reconnect
// case stops it and starts it again on the same ports and data directory.

import { after, before } from "node:test";
import { type SpindleProcess, startSpindle } from "../../../../../test/support/spindle-process.ts";
import { connect } from "../../index.ts";
import { transportContract } from "../../testing/contract.ts";

let spindle: SpindleProcess;
before(async () => {
  spindle = await startSpindle();
});
after(async () => {
  await spindle.stop();
});

transportContract("kafka → Spindle", {
  connect: (options) => connect(`kafka://${spindle.kafka}`, options),
  restart: async () => {
    const port = spindle.kafka.slice(spindle.kafka.lastIndexOf(":") + 1);
    await spindle.stop();
    spindle = await startSpindle(["--kafka-port", port], spindle.dataDir);
  },
  timeoutMs: 30_000,
});
