// @spindle/broker: start a broker inside a process (the SDK's embedded transport) or run the `spindle` CLI.
// Invariant: this is the package's only entry; everything else is internal and may change.

export * from "./server/index.ts";
