// TxnOffsetCommit: a consumer group's offsets sent inside a transaction, visible only when it commits.
// Invariant: the offsets are held durably with the transaction; the group sees them at commit, never at abort.

import { KafkaErrorCode, kafkaApis } from "@spindle/protocol";
import { txnErrorCode } from "../error-map.ts";
import { defineHandler } from "../handler.ts";
import { checkCommits, commitAnswers } from "./commit-offsets.ts";

/** KIP-588: PRODUCER_FENCED from v3 on */
const FENCED_SINCE = 3;

export const txnOffsetCommitHandler = defineHandler(kafkaApis[28], 0, 4, async (req, ctx) => {
  const { topics, transactions } = ctx.broker;
  const { codes, offsets } = checkCommits(topics, req.topics);
  let code: number = KafkaErrorCode.NONE;
  if (req.groupId === "") code = KafkaErrorCode.INVALID_GROUP_ID;
  else if (offsets.length > 0) {
    const e = await transactions.txnOffsetCommit(
      req.transactionalId,
      Number(req.producerId),
      req.producerEpoch,
      {
        groupId: req.groupId,
        generationId: req.generationId ?? -1,
        memberId: req.memberId ?? "",
        groupInstanceId: req.groupInstanceId ?? null,
        offsets,
      },
    );
    code = txnErrorCode(e, ctx.version, FENCED_SINCE);
  }
  return {
    throttleTimeMs: 0,
    topics: commitAnswers(req.topics, codes, code),
  };
});
