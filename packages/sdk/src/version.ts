// The SDK's name and version as telemetry reports them (instrumentation scope). Invariant: matches
// packages/sdk/package.json's version.
export const SDK_NAME = "@spindle/sdk";
export const SDK_VERSION = "0.1.0";
