// Golden bytes: sessions between real clients (amqplib, pika) and a real RabbitMQ, recorded by
// scripts/capture-amqp.ts. Invariant checked: every recorded frame decodes and re-encodes byte-identically.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { typed } from "./field-table.ts";
import { type AmqpFrame, decodeFrame, encodeFrame, encodeRawFrame, type RawFrame } from "./frame.ts";
import { FrameReader } from "./frame-reader.ts";
import { REPLY_CODES } from "./generated/constants.ts";
import type { AmqpMethod, MethodName } from "./generated/methods.ts";
import { checkProtocolHeader } from "./protocol-header.ts";

interface Fixture {
  scenario: string;
  chunks: { dir: "c2s" | "s2c"; b64: string }[];
}
const dir = join(import.meta.dirname, "fixtures");
const fixtures: Fixture[] = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .map((f) => JSON.parse(readFileSync(join(dir, f), "utf8")) as Fixture);

/** Replays one direction with the chunk boundaries as recorded. */
function replay(fx: Fixture, direction: "c2s" | "s2c"): { raw: RawFrame; frame: AmqpFrame }[] {
  const reader = new FrameReader(131072);
  const out: { raw: RawFrame; frame: AmqpFrame }[] = [];
  let header = direction === "c2s" ? Buffer.alloc(0) : undefined;
  for (const c of fx.chunks.filter((x) => x.dir === direction)) {
    let bytes: Buffer = Buffer.from(c.b64, "base64");
    if (header !== undefined) {
      const r = checkProtocolHeader(Buffer.concat([header, bytes]));
      assert.notEqual(r.status, "mismatch");
      if (r.status === "incomplete") {
        header = Buffer.concat([header, bytes]);
        continue;
      }
      header = undefined;
      bytes = r.status === "ok" ? r.rest : bytes;
    }
    for (const raw of reader.push(bytes)) out.push({ raw, frame: decodeFrame(raw) });
  }
  assert.equal(reader.bufferedBytes, 0, `${fx.scenario} ${direction}: bytes left after the last frame`);
  return out;
}

const methods = (frames: { frame: AmqpFrame }[]): AmqpMethod[] =>
  frames.flatMap(({ frame }) => (frame.type === "method" ? [frame.method] : []));
function find<K extends MethodName>(ms: AmqpMethod[], name: K, i = 0): Extract<AmqpMethod, { name: K }> {
  const found = ms.filter((m) => m.name === name)[i];
  assert.ok(found, `no ${name} #${i}`);
  return found as Extract<AmqpMethod, { name: K }>;
}

describe("golden fixtures", () => {
  it("has sessions from amqplib and pika", () => {
    assert.deepEqual(fixtures.map((f) => f.scenario).sort(), ["amqplib-session", "pika-session"]);
  });

  for (const fx of fixtures) {
    for (const direction of ["c2s", "s2c"] as const) {
      it(`${fx.scenario} ${direction}: every frame re-encodes byte-identically`, () => {
        const frames = replay(fx, direction);
        assert.ok(frames.length > 5);
        for (const { raw, frame } of frames) assert.deepEqual(encodeFrame(frame), encodeRawFrame(raw));
      });
    }
  }

  it("cuts the recorded streams into the same frames wherever they are split (property)", () => {
    for (const fx of fixtures) {
      const stream = Buffer.concat(
        fx.chunks.filter((c) => c.dir === "s2c").map((c) => Buffer.from(c.b64, "base64")),
      );
      const whole = [...new FrameReader(131072).push(stream)].map(encodeRawFrame);
      fc.assert(
        fc.property(fc.array(fc.nat({ max: stream.length }), { maxLength: 30 }), (cuts) => {
          const reader = new FrameReader(131072);
          const got: Buffer[] = [];
          let at = 0;
          for (const cut of [...[...cuts].sort((a, b) => a - b), stream.length]) {
            for (const raw of reader.push(stream.subarray(at, cut))) got.push(encodeRawFrame(raw));
            at = cut;
          }
          assert.deepEqual(got, whole);
        }),
        { numRuns: 30 },
      );
    }
  });

  it("amqplib session: decodes the methods, properties and header types it sent", () => {
    const fx = fixtures.find((f) => f.scenario === "amqplib-session") as Fixture;
    const c2s = replay(fx, "c2s");
    const s2c = replay(fx, "s2c");
    const sent = methods(c2s);
    const names = new Set([...sent, ...methods(s2c)].map((m) => m.name));
    for (const n of [
      "connection.start",
      "connection.tune-ok",
      "exchange.bind",
      "queue.declare",
      "basic.qos",
      "basic.consume",
      "basic.deliver",
      "basic.get-ok",
      "basic.get-empty",
      "basic.return",
      "basic.nack",
      "basic.reject",
      "confirm.select",
      "connection.close-ok",
    ] as const) {
      assert.ok(names.has(n), `missing ${n}`);
    }
    assert.ok(c2s.some(({ frame }) => frame.type === "heartbeat"));

    const q = find(sent, "queue.declare", 1).args;
    assert.equal(q.queue, "spindle-capture.q");
    assert.deepEqual(q.arguments, {
      "x-message-ttl": 60000,
      "x-dead-letter-exchange": "spindle-capture.dlx",
      "x-max-length": typed("s", 1000),
      "x-max-priority": typed("b", 5),
      "x-spindle-table": { nested: { deeper: [typed("b", 1), typed("b", 2), typed("b", 3)] } },
      "x-spindle-array": ["a", typed("b", 1), true, null],
    });

    const header = c2s.map((f) => f.frame).find((f) => f.type === "header");
    assert.ok(header?.type === "header");
    const { headers, ...rest } = header.properties;
    assert.deepEqual(rest, {
      contentType: "text/plain",
      contentEncoding: "utf-8",
      deliveryMode: 2,
      priority: 3,
      correlationId: "corr-1",
      replyTo: "reply.queue",
      expiration: "60000",
      messageId: "msg-1",
      timestamp: 1_700_000_000n,
      type: "greeting",
      userId: "guest",
      appId: "spindle-capture",
    });
    assert.deepEqual(headers, {
      str: "héllo",
      int32: 123456,
      int8: typed("b", -5),
      uint8: typed("B", 200),
      int16: typed("s", -300),
      uint16: typed("u", 60000),
      uint32: typed("i", 4_000_000_000),
      int64: 2 ** 40,
      float: typed("f", 1.5),
      double: 3.25,
      decimal: typed("D", { scale: 2, digits: 12345 }),
      timestamp: new Date(1_700_000_000_000),
      bool: true,
      void: null,
      bytes: Buffer.from([0, 1, 2, 255]),
      array: [typed("b", 1), "two", false, [typed("b", 3)], { four: typed("b", 4) }],
      nested: { a: { b: { c: "deep" } }, list: ["x", "y"] },
    });

    const close = find(methods(s2c), "channel.close").args;
    assert.equal(close.replyCode, 404);
    assert.equal(REPLY_CODES[404].scope, "channel");
    assert.deepEqual([close.classId, close.methodId], [50, 10]);
  });

  it("pika session: decodes pika's header types and cluster-id", () => {
    const fx = fixtures.find((f) => f.scenario === "pika-session") as Fixture;
    const header = replay(fx, "c2s")
      .map((f) => f.frame)
      .find((f) => f.type === "header");
    assert.ok(header?.type === "header");
    assert.equal(header.properties.clusterId, "cluster");
    assert.deepEqual(header.properties.headers, {
      int: 42,
      big: 2 ** 40,
      neg: -7,
      bool: false,
      str: "text",
      bytes: Buffer.from([0, 0xff]),
      dec: typed("D", { scale: 2, digits: 314 }),
      when: new Date(1_700_000_000_000),
      dict: { k: "v" },
      list: [1, "x"],
      none: null,
    });
  });
});
