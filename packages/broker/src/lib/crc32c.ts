// The CRC32C every log and snapshot checksum uses: @node-rs/crc32 (native, ~3 GB/s).
// Invariant: loaded with require, not import — an ESM import of this CommonJS addon cost ~13 ms at every start.

import { createRequire } from "node:module";
import type { Crc32c } from "@spindle/protocol";

// `import { crc32c } from "@node-rs/crc32"` made Node parse the addon's CommonJS loader for its export names
// (and set up that parser, the first time) before loading it; require loads it directly.
const native = createRequire(import.meta.url)("@node-rs/crc32") as typeof import("@node-rs/crc32");

export const crc32c: Crc32c = native.crc32c;
