// Golden frames captured from real clients (kafkajs, librdkafka via kcat) decode and re-encode byte for byte.
// Every strict prefix of a frame must fail with RangeError, never decode or hang.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { getKafkaApi } from "../generated/index.ts";
import { readBatchHeader } from "../record-batch.ts";
import { decodeRequestHeader, requestHeaderVersion, writeRequestHeader } from "./headers.ts";
import { KafkaReader } from "./reader.ts";
import { KafkaWriter } from "./writer.ts";

const dir = new URL("../fixtures/", import.meta.url);
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith(".bin"))
  .sort();

function decodeFrame(frame: Buffer) {
  const r = new KafkaReader(frame);
  const header = decodeRequestHeader(r);
  const api = getKafkaApi(header.apiKey);
  assert.ok(api, `unknown apiKey ${header.apiKey}`);
  const body = api.decodeRequest(header.apiVersion, r);
  return { header, api, body, left: r.remaining() };
}

describe("golden request frames from real clients", () => {
  it("has fixtures from kafkajs and librdkafka", () => {
    for (const client of ["kafkajs", "librdkafka"]) {
      for (const api of ["ApiVersions", "Metadata", "Produce", "Fetch", "JoinGroup"]) {
        assert.ok(
          fixtures.some((f) => f.startsWith(`${client}-${api}-v`)),
          `missing ${client} ${api} fixture`,
        );
      }
    }
  });

  for (const file of fixtures) {
    it(`${file} round-trips byte for byte`, () => {
      const frame = readFileSync(new URL(file, dir));
      const { header, api, body, left } = decodeFrame(frame);
      assert.equal(left, 0, "the body decoder consumed the whole frame");
      assert.equal(`${api.name}-v${header.apiVersion}`, file.replace(/^[a-z]+-/, "").replace(/\.bin$/, ""));
      const w = new KafkaWriter();
      writeRequestHeader(w, requestHeaderVersion(header.apiKey, header.apiVersion)!, header);
      api.writeRequest(w, header.apiVersion, body);
      assert.deepEqual(w.finish(), frame);
    });

    it(`${file} truncated anywhere throws RangeError`, () => {
      const frame = readFileSync(new URL(file, dir));
      for (let n = 0; n < frame.length; n++) {
        assert.throws(
          () => decodeFrame(frame.subarray(0, n)),
          RangeError,
          `a ${n}-byte prefix of ${frame.length} must not decode`,
        );
      }
    });
  }

  it("keeps the produced record batch as an undecoded view", () => {
    const frame = readFileSync(new URL("kafkajs-Produce-v7.bin", dir));
    const { body } = decodeFrame(frame);
    const produce = body as { topicData: { partitionData: { records: Buffer | null }[] }[] };
    const records = produce.topicData[0]?.partitionData[0]?.records;
    assert.ok(records);
    assert.equal(records.buffer, frame.buffer, "records is a view into the frame, not a copy");
    assert.equal(readBatchHeader(records).magic, 2);
  });
});
