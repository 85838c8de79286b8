// Bad input from the network: frames captured from kafkajs and librdkafka, mutated at random (bit flips,
// truncation, garbage), sent to a real spindle process. Seeded (SEED=…) so a failure replays.
// Invariant checked: the process never dies, no handler throws, and well-behaved clients are still served.

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import { type SpindleProcess, startSpindle } from "../../../../../test/support/spindle-process.ts";
import { seededRng } from "../../lib/index.ts";

const SEED = Number(process.env.SEED ?? Date.now() % 1_000_000);
const CASES = 400;
const dir = new URL("../../../../protocol/src/kafka/fixtures/", import.meta.url);
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith(".bin"))
  .map((f) => readFileSync(new URL(f, dir)));

let spindle: SpindleProcess;
before(async () => {
  spindle = await startSpindle();
});
after(async () => {
  await spindle.stop();
});

function mutate(frame: Buffer, rng: ReturnType<typeof seededRng>): Buffer {
  const out = Buffer.from(frame);
  switch (rng.int(4)) {
    case 0:
      for (let i = rng.int(4) + 1; i > 0; i--) {
        const at = 4 + rng.int(Math.max(1, out.length - 4));
        if (at < out.length) out[at] = rng.int(256);
      }
      return out;
    case 1:
      return out.subarray(0, rng.int(out.length));
    case 2:
      return Buffer.concat([out, Buffer.from(Array.from({ length: rng.int(64) }, () => rng.int(256)))]);
    default: {
      // A length field somewhere claims a huge size.
      const at = 8 + rng.int(Math.max(1, out.length - 12));
      if (at + 4 <= out.length) out.writeInt32BE(0x7ffffff0 - rng.int(1000), at);
      return out;
    }
  }
}

function sendAll(frames: Buffer[]): Promise<void> {
  const [host, port] = spindle.kafka.split(":") as [string, string];
  return new Promise((resolve) => {
    const s: Socket = connect(Number(port), host);
    s.on("error", () => {});
    s.on("data", () => {});
    s.on("close", () => resolve());
    for (const f of frames) {
      const size = Buffer.alloc(4);
      size.writeInt32BE(f.length);
      s.write(Buffer.concat([size, f]));
    }
    setTimeout(() => s.destroy(), 300);
  });
}

test(`mutated client frames never crash the broker (SEED=${SEED})`, async () => {
  const rng = seededRng(SEED);
  for (let i = 0; i < CASES; i += 10) {
    const batch = Array.from({ length: 10 }, () => mutate(fixtures[rng.int(fixtures.length)] as Buffer, rng));
    await sendAll(batch);
    assert.equal(spindle.child.exitCode, null, `broker exited after case ${i} (SEED=${SEED})`);
  }
  const kafka = new Kafka({ clientId: "after", brokers: [spindle.kafka], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  assert.ok(Array.isArray(await admin.listTopics()));
  await admin.disconnect();
  assert.doesNotMatch(spindle.stderr(), /kafka handler failed/, "a handler threw on a decodable request");
});
