#!/usr/bin/env node
// The `spindle` executable: runs the built CLI bundle (dist/bundle/, made by `npm run build` from tsc's dist/;
// nothing compiles at run time). Invariant: the process exits with the code main() returns.

import { main } from "../dist/bundle/cli.js";

process.exit(await main(process.argv));
