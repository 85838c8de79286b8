// Builds the console into the broker package's dist/, which `npm pack` of the broker ships and the broker
// serves at `/`. Invariant: everything the page needs is in that directory (no CDN; works offline).

import { defineConfig } from "vite";

export default defineConfig({
  // relative asset URLs: the page works wherever the broker mounts it
  base: "./",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "../broker/dist/console",
    emptyOutDir: true,
    target: "es2022",
    // one small bundle: the first page is the whole console (~50 KB gzip), so splitting buys nothing
    modulePreload: false,
    reportCompressedSize: true,
  },
});
