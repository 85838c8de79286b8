// One socket write per batch of frames instead of one per frame. Invariant: the bytes on the wire and
// their order are exactly amqplib's; only how many write calls carry them changes.
//
// amqplib's Mux (lib/mux.js) moves the frames its channels queued to the socket in one `_readIncoming`
// pass, but with one `socket.write` each: every publish and every ack was its own write(2), the largest
// single CPU cost of a client publishing and acking small messages (≈ 40% of raw amqplib's CPU). Corking
// the socket around the pass hands Node all of them at once (one writev).

import type { ChannelModel } from "amqplib";

interface MuxInternals {
  out?: { cork?: () => void; uncork?: () => void };
  _readIncoming?: () => void;
  spindleCoalesced?: boolean;
}

/** Makes `model`'s connection write each batch of queued frames with one writev; false if amqplib differs. */
export function coalesceWrites(model: ChannelModel): boolean {
  const mux = (model as unknown as { connection?: { muxer?: MuxInternals } }).connection?.muxer;
  const pass = mux?._readIncoming;
  const out = mux?.out;
  if (mux === undefined || typeof pass !== "function" || typeof out?.cork !== "function") return false;
  if (mux.spindleCoalesced) return true;
  const cork = out.cork.bind(out);
  const uncork = (out.uncork as () => void).bind(out);
  mux._readIncoming = function readIncomingCorked(this: MuxInternals) {
    cork();
    try {
      pass.call(this);
    } finally {
      uncork();
    }
  };
  mux.spindleCoalesced = true;
  return true;
}
