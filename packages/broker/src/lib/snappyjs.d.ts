// Types for snappyjs (pure-JS raw snappy), which ships none.
declare module "snappyjs" {
  export function compress(data: Uint8Array): Buffer;
  /** Throws when the decoded length would exceed maxLength. */
  export function uncompress(data: Uint8Array, maxLength?: number): Buffer;
}
