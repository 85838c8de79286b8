// AddOffsetsToTxn and EndTxn: a group joins the transaction; the transaction commits or aborts.
// Invariant: EndTxn is answered once the decision (PrepareCommit/PrepareAbort) is durable; the coordinator writes
// the markers and offsets after, before it serves that transactional id again (Transactions.endTxn).

import { kafkaApis } from "@spindle/protocol";
import { txnErrorCode } from "../error-map.ts";
import { defineHandler } from "../handler.ts";

/** KIP-588: PRODUCER_FENCED from v2 on, for both */
const FENCED_SINCE = 2;

export const addOffsetsToTxnHandler = defineHandler(kafkaApis[25], 0, 4, async (req, ctx) => {
  const e = await ctx.broker.transactions.addOffsets(
    req.transactionalId,
    Number(req.producerId),
    req.producerEpoch,
    req.groupId,
  );
  return { throttleTimeMs: 0, errorCode: txnErrorCode(e, ctx.version, FENCED_SINCE) };
});

// v5 bumps the epoch at every end (KIP-890 part 2), which clients that speak it then expect: not served.
export const endTxnHandler = defineHandler(kafkaApis[26], 0, 4, async (req, ctx) => {
  const e = await ctx.broker.transactions.endTxn(
    req.transactionalId,
    Number(req.producerId),
    req.producerEpoch,
    req.committed,
  );
  return { throttleTimeMs: 0, errorCode: txnErrorCode(e, ctx.version, FENCED_SINCE) };
});
