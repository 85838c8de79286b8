// Bundles the built CLI (dist/server/cli.js, from tsc) and its pure-JS dependencies into dist/bundle/, which
// the `spindle` bin runs, and the package entry (dist/index.js → dist/bundle/index.js, what the SDK's
// embedded:// transport imports). Invariant: native addons stay external; what is imported lazily stays a
// lazy chunk. Why: Node's ESM loader cost ~0.7 ms per module; the CLI is ~300 files, so a bundle starts
// ~150 ms sooner (importing the unbundled entry took 0.9-1.9 s on a loaded machine, the bundle 0.15-0.4 s).

import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = `${root}dist/bundle`;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { cli: `${root}dist/server/cli.js`, index: `${root}dist/index.js` },
  outdir,
  bundle: true,
  splitting: true, // dynamic import() (compression codecs, the HTTP app) becomes a chunk loaded on first use
  format: "esm",
  platform: "node",
  target: "node20",
  // Native addons load their .node file relative to their own package, so they are resolved at run time.
  external: ["lz4-napi", "zstd-napi", "@node-rs/crc32"],
  // CommonJS dependencies (pino) call require() for Node built-ins; ESM output has no require of its own.
  banner: {
    js: 'import { createRequire as __spindleRequire } from "node:module";\nconst require = __spindleRequire(import.meta.url);',
  },
  sourcemap: "linked",
  legalComments: "linked",
  logLevel: "warning",
});
