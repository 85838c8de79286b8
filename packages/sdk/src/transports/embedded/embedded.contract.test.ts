// The transport contract suite on embedded://: a Spindle broker inside this test process on a temp data
// directory; the reconnect case restarts it on the same ports under the connected clients.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { connect } from "../../index.ts";
import { transportContract } from "../../testing/contract.ts";
import { restartEmbeddedBroker } from "./embedded-broker.ts";

const dir = mkdtempSync(join(tmpdir(), "spindle-sdk-embedded-"));
const url = `embedded://${dir}`;
after(() => rmSync(dir, { recursive: true, force: true }));

transportContract("embedded", {
  connect: (options) => connect(url, options),
  restart: () => restartEmbeddedBroker(new URL(url), 200),
});
