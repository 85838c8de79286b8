// Public surface of server/: the composition root that the bin script and cross-package tests use.
// Invariant: nothing below server/ imports from here (dependencies point down).

import type { CliIo } from "./cli.ts";

export { type Broker, readyLine, startBroker } from "./broker.ts";
export { type BrokerConfig, DEFAULTS, resolveConfig } from "./config.ts";
export { formatHostPort, type Listener, listen } from "./listen.ts";
export { createLogger, type Logger } from "./logger.ts";
export { openStorage, type Storage } from "./storage.ts";

/**
 * The `spindle` CLI, loaded when called: an embedded broker (the SDK's embedded://) imports this entry and
 * never needs commander and the command definitions (~120 KB of the bundle that each start parsed).
 */
export async function main(argv: readonly string[], io?: CliIo): Promise<number> {
  const cli = await import("./cli.ts");
  return cli.main(argv, io);
}
