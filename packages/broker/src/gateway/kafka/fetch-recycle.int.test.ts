// Fetch answers from recycled read buffers (log/read-buffers.ts): a buffer goes back to the pool only once
// its response is in the kernel. A client that pipelines fetches and leaves them unread keeps responses
// queued in the broker while later fetches and read-aheads run: each must still arrive as it was stored.

import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, test } from "node:test";
import {
  decodeRecords,
  encodeRequestHeader,
  type FetchResponse,
  getKafkaApi,
  readBatchHeader,
  requestHeaderVersion,
  validateBatch,
} from "@spindle/protocol";
import { Kafka, logLevel } from "kafkajs";
import { startTestKafka, type TestKafka } from "./test-broker.ts";

const RECORDS = 4000;
const FETCH = getKafkaApi(1)!;
let broker: TestKafka;

/** Each offset's value says which offset it belongs to, all through its 2000 bytes. */
const storedValue = (offset: number) => Buffer.from(`${offset};`.repeat(400).slice(0, 2000));

before(async () => {
  broker = await startTestKafka();
  const kafka = new Kafka({ clientId: "r", brokers: [broker.address], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  for (let o = 0; o < RECORDS; o += 100) {
    const messages = Array.from({ length: 100 }, (_, k) => ({ value: storedValue(o + k) }));
    await producer.send({ topic: "recycled", messages });
  }
  await producer.disconnect();
});
after(async () => {
  await broker.close();
});

function fetchFrame(correlationId: number, offset: number): Buffer {
  const header = encodeRequestHeader(requestHeaderVersion(1, 11) ?? 1, {
    apiKey: 1,
    apiVersion: 11,
    correlationId,
    clientId: "pipelined",
  });
  const body = FETCH.encodeRequest(11, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 50 * 1024 * 1024,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic: "recycled",
        partitions: [
          {
            partition: 0,
            currentLeaderEpoch: -1,
            fetchOffset: BigInt(offset),
            logStartOffset: -1n,
            partitionMaxBytes: 1024 * 1024,
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: "",
  });
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length + body.length);
  return Buffer.concat([size, header, body]);
}

/**
 * Sends each wave of frames `holdMs` after the last, reading nothing until `holdMs` after the last wave:
 * a later wave's reads run while the earlier waves' responses wait to be written. Returns every response.
 */
function pipelined(waves: Buffer[][], holdMs: number): Promise<Buffer[]> {
  const [host, port] = broker.address.split(":") as [string, string];
  const count = waves.flat().length;
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), host);
    s.pause();
    let buf = Buffer.alloc(0);
    const out: Buffer[] = [];
    s.on("data", (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        out.push(buf.subarray(4, 4 + buf.readInt32BE(0)));
        buf = buf.subarray(4 + buf.readInt32BE(0));
      }
      if (out.length === count) {
        s.destroy();
        resolve(out);
      }
    });
    s.on("error", reject);
    for (const [i, frames] of waves.entries()) {
      setTimeout(() => s.write(Buffer.concat(frames)), i * holdMs);
    }
    setTimeout(() => s.resume(), waves.length * holdMs);
  });
}

/** Every batch passes its CRC and every record holds its own offset's value; returns the offsets seen. */
function checkRecords(records: Buffer, what: string): number[] {
  const seen: number[] = [];
  for (let pos = 0; pos < records.length; ) {
    const size = 12 + records.readInt32BE(pos + 8);
    const batch = records.subarray(pos, pos + size);
    assert.equal(validateBatch(batch), null, `${what}: batch at ${pos}`);
    const h = readBatchHeader(batch);
    for (const r of decodeRecords(batch)) {
      const o = h.baseOffset + r.offsetDelta;
      assert.ok(r.value?.equals(storedValue(o)), `${what}: offset ${o} holds another value`);
      seen.push(o);
    }
    pos += size;
  }
  return seen;
}

test("pipelined fetches left unread while later ones are read each arrive as stored", async () => {
  for (let round = 0; round < 3; round++) {
    // sequential offsets (read-ahead hits) and repeated ones (read-ahead misses) in one pipeline
    const offsets = [0, 450, 900, 1350, 1800, 0, 2250, 2700, 3150, 450, 3600, 3900];
    const frames = offsets.map((o, i) => fetchFrame(i + 1, o));
    const replies = await pipelined([frames.slice(0, 4), frames.slice(4, 8), frames.slice(8)], 300);
    replies.forEach((reply, i) => {
      assert.equal(reply.readInt32BE(0), i + 1, "responses in request order");
      const res = FETCH.decodeResponse(11, reply.subarray(4)) as FetchResponse;
      const part = res.responses[0]?.partitions[0];
      const what = `round ${round} fetch ${i} at ${offsets[i]}`;
      assert.equal(part?.errorCode, 0, what);
      const seen = checkRecords(part?.records ?? Buffer.alloc(0), what);
      assert.ok(seen.includes(offsets[i]!), `${what}: holds the offset asked for`);
      const want = Math.min(400, RECORDS - offsets[i]!);
      assert.ok(seen.length >= want, `${what}: about 1 MiB of records (or to the end), got ${seen.length}`);
    });
  }
});
