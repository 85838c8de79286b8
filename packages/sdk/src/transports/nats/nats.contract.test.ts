// The transport contract suite on nats:// against the NATS server on 127.0.0.1:4222 (JetStream). The
// server may not be restarted, so there is no broker-restart case here (nats.int.test.ts drops the
// connection through a proxy instead). Streams carry this run's pid and are deleted afterwards.

import { after } from "node:test";
import { deleteNatsStreams, NATS_URL } from "../../../../../test/support/nats.ts";
import { connect } from "../../index.ts";
import { transportContract } from "../../testing/contract.ts";

after(async () => {
  await deleteNatsStreams(`-${process.pid}-`);
});

transportContract("nats → NATS", {
  connect: (options) => connect(NATS_URL, options),
});
