#!/usr/bin/env node
// The `spindle` executable: runs the built CLI (dist/, made by `npm run build`; nothing compiles at run time).
// Invariant: the process exits with the code main() returns, even if a handle would keep it alive.

import { main } from "../dist/server/cli.js";

process.exit(await main(process.argv));
