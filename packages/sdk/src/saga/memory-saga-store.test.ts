// The saga suite on the memory store and the memory transport.

import { connect } from "../index.ts";
import { sagaStoreContract } from "../testing/saga-contract.ts";
import { uniqueName } from "../testing/wait.ts";
import { memorySagaStore } from "./memory-saga-store.ts";

const url = `memory://${uniqueName("sagas")}`;

sagaStoreContract("memory store on memory://", {
  store: async () => memorySagaStore(),
  connect: () => connect(url),
});
