// Durations past setTimeout's limit (2^31-1 ms, about 24.8 days) against the real system clock: Node fires a
// longer setTimeout after 1 ms, which deleted an x-expires queue at once and re-armed long x-delay and TTL
// timers every millisecond. Invariant: each check would fail if a domain timer called setTimeout directly.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import amqplib from "amqplib";
import { type Clock, systemClock, type TimerHandle } from "../../lib/index.ts";
import { startTestBroker, type TestBroker } from "./test-broker.ts";

const DAYS_30_MS = 30 * 24 * 60 * 60 * 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The system clock, counting how often the broker looks at it: reads of the time and timers fired. */
class CountingClock implements Clock {
  uses = 0;
  nowMs(): number {
    this.uses++;
    return systemClock.nowMs();
  }
  setTimer(ms: number, fn: () => void): TimerHandle {
    return systemClock.setTimer(ms, () => {
      this.uses++;
      fn();
    });
  }
  setRepeating(ms: number, fn: () => void): TimerHandle {
    return systemClock.setRepeating(ms, () => {
      this.uses++;
      fn();
    });
  }
  clearTimer(t: TimerHandle | undefined): void {
    systemClock.clearTimer(t);
  }
}

const clock = new CountingClock();
let broker: TestBroker;
let conn: amqplib.ChannelModel;
before(async () => {
  broker = await startTestBroker(undefined, clock);
  conn = await amqplib.connect(broker.url);
});
after(async () => {
  await conn.close();
  await broker.close();
});

/** How often the broker used its clock while nothing happened for `ms`: a timer spinning every
 *  millisecond shows as hundreds. */
async function idleClockUses(ms: number): Promise<number> {
  const from = clock.uses;
  await sleep(ms);
  return clock.uses - from;
}

test("a queue with x-expires of 30 days is still there after a second", async () => {
  const ch = await conn.createChannel();
  await ch.assertQueue("expires-in-30-days", { durable: false, arguments: { "x-expires": DAYS_30_MS } });
  await sleep(1000);
  assert.equal((await ch.checkQueue("expires-in-30-days")).messageCount, 0, "not deleted");
  await ch.close();
});

test("an x-delay of 30 days is held without re-arming its timer every millisecond", async () => {
  const ch = await conn.createConfirmChannel();
  await ch.assertExchange("delay-30-days", "x-delayed-message", {
    durable: false,
    arguments: { "x-delayed-type": "fanout" },
  });
  const { queue } = await ch.assertQueue("", { exclusive: true });
  await ch.bindQueue(queue, "delay-30-days", "");
  ch.publish("delay-30-days", "", Buffer.from("next month"), { headers: { "x-delay": DAYS_30_MS } });
  await ch.waitForConfirms();
  const uses = await idleClockUses(300);
  assert.ok(uses < 10, `the clock was used ${uses} times in 300 ms while nothing was due`);
  assert.equal((await ch.checkQueue(queue)).messageCount, 0, "not released early");
  await ch.close();
});

test("a message TTL of 30 days is waited out without re-arming every millisecond", async () => {
  const ch = await conn.createConfirmChannel();
  const { queue } = await ch.assertQueue("", { exclusive: true, arguments: { "x-message-ttl": DAYS_30_MS } });
  ch.sendToQueue(queue, Buffer.from("queue ttl"));
  ch.sendToQueue(queue, Buffer.from("own ttl"), { expiration: String(DAYS_30_MS + 1000) });
  await ch.waitForConfirms();
  const uses = await idleClockUses(300);
  assert.ok(uses < 10, `the clock was used ${uses} times in 300 ms while nothing was due`);
  assert.equal((await ch.checkQueue(queue)).messageCount, 2, "nothing expired early");
  await ch.close();
});
