// The transport contract suite on amqp:// against a real `spindle` process (started on free ports; the
// reconnect case stops it and starts it again on the same ports and data directory).

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

transportContract("amqp → Spindle", {
  connect: (options) => connect(spindle.url, options),
  restart: async () => {
    await spindle.stop();
    spindle = await startSpindle(["--amqp-port", String(spindle.port)], spindle.dataDir);
  },
});
