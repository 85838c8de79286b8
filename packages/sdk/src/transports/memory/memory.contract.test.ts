// Runs the transport contract suite on memory://, one private broker name per test file run.

import { connect } from "../../index.ts";
import { systemClock } from "../../lib/clock.ts";
import { transportContract } from "../../testing/contract.ts";
import { uniqueName } from "../../testing/wait.ts";
import { memoryBroker } from "./memory-broker.ts";

const name = uniqueName("contract");

transportContract("memory", {
  connect: (options) => connect(`memory://${name}`, options),
  restart: () => memoryBroker(name, systemClock).restart(20),
});
