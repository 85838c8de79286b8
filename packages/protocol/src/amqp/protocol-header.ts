// The 8-byte protocol header a client sends first, and the rule for answering one we do not speak.
// Invariant: only `AMQP\x00\x00\x09\x01` is accepted; anything else is answered with that header, then close.
export const PROTOCOL_HEADER: Buffer = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);

export type ProtocolHeaderResult =
  /** Fewer than 8 bytes so far, all consistent with the header: wait for more. */
  | { readonly status: "incomplete" }
  /** Accepted; frames start at `rest` (bytes after the header in the same chunk). */
  | { readonly status: "ok"; readonly rest: Buffer }
  /** Not AMQP 0-9-1: write `reply` (our header), then close the socket (AMQP 0-9-1 §4.2.2). */
  | { readonly status: "mismatch"; readonly received: Buffer; readonly reply: Buffer };

/** Checks the bytes received so far on a new connection. Fails fast on the first wrong byte, so that
 *  a peer speaking another protocol (HTTP, TLS) is refused without waiting for 8 bytes. */
export function checkProtocolHeader(received: Buffer): ProtocolHeaderResult {
  const n = Math.min(received.length, PROTOCOL_HEADER.length);
  for (let i = 0; i < n; i++) {
    if (received[i] !== PROTOCOL_HEADER[i]) {
      return { status: "mismatch", received: received.subarray(0, n), reply: PROTOCOL_HEADER };
    }
  }
  if (n < PROTOCOL_HEADER.length) return { status: "incomplete" };
  return { status: "ok", rest: received.subarray(PROTOCOL_HEADER.length) };
}
