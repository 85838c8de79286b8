import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeRecords, encodeRecordBatch } from "@spindle/protocol";
import fc from "fast-check";
import {
  batchFacts,
  createMessage,
  fromRecord,
  type MessageFacts,
  settledRecord,
  toRecord,
} from "./message.ts";

test("batchFacts reads what fromRecord would, for every record at or after `from`", () => {
  const message = fc.record({
    exchange: fc.string(),
    routingKey: fc.string(),
    properties: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    body: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    persistent: fc.boolean(),
    expirationMs: fc.option(fc.nat(), { nil: undefined }),
    priority: fc.nat(255),
    delayMs: fc.nat(),
    settled: fc.boolean(),
  });
  fc.assert(
    fc.property(
      fc.array(message, { minLength: 1, maxLength: 20 }),
      fc.nat(1000),
      fc.nat(25),
      (ms, base, from) => {
        const records = ms.map(({ settled, ...m }) =>
          settled ? settledRecord(1) : toRecord(createMessage(m), 1),
        );
        const batch = encodeRecordBatch({ records, timestamp: 0 });
        batch.writeBigInt64BE(BigInt(base), 0);
        const facts: MessageFacts[] = [];
        batchFacts(batch, base + from, facts);
        const expected = decodeRecords(batch)
          .map((r, i) => ({ offset: base + i, m: fromRecord(r) }))
          .filter(({ offset }) => offset >= base + from)
          .map(({ offset, m }) => ({
            offset,
            persistent: m?.persistent ?? false,
            priority: m?.priority ?? 0,
            bodyBytes: m?.body.length ?? 0,
          }));
        assert.deepEqual(facts, expected);
      },
    ),
  );
});
