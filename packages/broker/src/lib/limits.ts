// Every declared limit in one place, so a reviewer can see what the broker will allocate for a peer.
// Checks happen before allocation; the numbers are defaults that config may lower or raise.

export const LIMITS = {
  /** largest record batch the log accepts in one append */
  batchBytesMax: 100 * 1024 * 1024,
  /** appends waiting for the next group commit before append() pushes back */
  pendingAppendsMax: 100_000,
  /** bytes waiting for the next group commit before append() pushes back */
  pendingAppendBytesMax: 256 * 1024 * 1024,
  /** size of one meta change record */
  metaRecordBytesMax: 1024 * 1024,
} as const;
