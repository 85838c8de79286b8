// Public surface of server/: the composition root that the bin script and cross-package tests use.
// Invariant: nothing below server/ imports from here (dependencies point down).

export { type Broker, readyLine, startBroker } from "./broker.ts";
export { main } from "./cli.ts";
export { type BrokerConfig, DEFAULTS, resolveConfig } from "./config.ts";
export { formatHostPort, type Listener, listen } from "./listen.ts";
export { createLogger, type Logger } from "./logger.ts";
export { openStorage, type Storage } from "./storage.ts";
