// Builds the web console (packages/console, Vite) into the broker's dist/console, then prints its size.
// Invariant: a checkout whose node_modules predate the console (no vite yet) still builds the broker;
// it says so, and `/` then answers that the console was not built.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../packages/console/", import.meta.url));
let vite;
try {
  vite = await import("vite");
} catch {
  console.warn("build-console: vite is not installed (run npm install); the web console was not built");
  process.exit(0);
}
await vite.build({ root, configFile: `${root}vite.config.ts`, logLevel: "warn" });
const size = spawnSync(process.execPath, [fileURLToPath(new URL("console-size.mjs", import.meta.url))], {
  stdio: "inherit",
});
process.exit(size.status ?? 1);
