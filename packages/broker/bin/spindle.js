#!/usr/bin/env node
// The `spindle` executable: runs the TypeScript sources directly by registering tsx, then the CLI.
// Invariant: the process exits with the code main() returns, even if a handle would keep it alive.

import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/server/cli.ts");
process.exit(await main(process.argv));
