// Bundles the built SDK (dist/, from tsc) into dist/bundle/, what the package's `exports` point at: the
// entry and `./testing` share chunks (one copy of each class), each transport stays a chunk loaded by its
// URL's import(), the embedded broker's worker script is an entry of its own, and @opentelemetry/api is
// bundled in. Invariant: broker clients, database drivers and @spindle/broker stay external (optional
// peers, loaded only by the URL or store that needs them).
// Why: Node's ESM loader costs about a millisecond per module on this machine; the SDK is ~50 modules and
// the OTel API ~40 CommonJS files, together ~100 ms CPU of connect("embedded://…") (bench/sdk-connect.ts).
// The OTel API is built to run as several copies: each reads the one global registry an OTel SDK fills.

import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = `${root}dist/bundle`;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: {
    index: `${root}dist/index.js`,
    testing: `${root}dist/testing/index.js`,
    // embedded:// runs its broker in a worker thread started from this file, found next to the chunks
    "embedded-broker-worker": `${root}dist/transports/embedded/embedded-broker-worker.js`,
  },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  // the OTel API's package exports an ESM build under the "module" condition
  conditions: ["module"],
  external: ["@spindle/broker", "amqplib", "@nats-io/*", "@platformatic/kafka", "pg", "better-sqlite3"],
  sourcemap: "linked",
  logLevel: "warning",
});
