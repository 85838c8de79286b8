// meta/: durable definitions on top of the log. Upper layers keep their own typed views and
// write through `apply`, which resolves once the change is on disk.
export { type MetaChange, MetaStore, type MetaStoreOptions } from "./meta-store.ts";
