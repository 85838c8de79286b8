// The embedded:// adapter's entry, loaded by the transport registry on first use (@spindle/broker with it).

export { crashEmbeddedBroker, restartEmbeddedBroker } from "./embedded-broker.ts";
export { createEmbeddedTransport as createTransport } from "./embedded-transport.ts";
