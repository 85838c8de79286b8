// The redelivery limit on memory://: deliveries that ended unsettled (the broker dropped the consumer's
// connection mid-handler) count, and past maxRedeliveries the message is dead-lettered without calling
// the handler; the SDK's own releases (an open circuit breaker handing messages back) never count.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import type { Bus } from "../bus.ts";
import { connect, retry } from "../index.ts";
import { systemClock } from "../lib/clock.ts";
import { uniqueName, waitFor } from "../testing/wait.ts";
import { memoryBroker } from "../transports/memory/memory-broker.ts";

const buses: Bus[] = [];
after(async () => {
  for (const b of buses) await b.close().catch(() => {});
});

async function open(name: string): Promise<Bus> {
  const bus = await connect(`memory://${name}`, { onError: () => {} });
  buses.push(bus);
  return bus;
}

describe("redelivery limit", () => {
  it("dead-letters a message whose handler never settles across maxRedeliveries drops", async () => {
    const name = uniqueName("redeliveries");
    const bus = await open(name);
    let calls = 0;
    await bus.subscribe(
      "jobs",
      { group: "g", concurrency: 4, maxRedeliveries: 1, deadLetter: "jobs.dlq", drainTimeoutMs: 10 },
      () => {
        calls++;
        return new Promise(() => {}); // hangs: only a dropped connection gives the message back
      },
    );
    await bus.publish("jobs", "stuck", { id: "stuck-1" });
    await waitFor("the first delivery", () => calls === 1);
    await memoryBroker(name, systemClock).restart(10);
    await waitFor("the redelivery", () => calls === 2);
    await memoryBroker(name, systemClock).restart(10);
    let dead = await bus.deadLetters("jobs.dlq");
    for (const start = Date.now(); dead.length === 0 && Date.now() - start < 5_000; await delay(20)) {
      dead = await bus.deadLetters("jobs.dlq");
    }
    assert.equal(dead.length, 1);
    assert.equal(dead[0]?.id, "stuck-1");
    assert.equal(dead[0]?.error.name, "RedeliveryLimitError");
    assert.match(dead[0]?.error.message ?? "", /redelivered 2 times .*maxRedeliveries 1/u);
    assert.equal(calls, 2, "the handler is not called for the third delivery");
  });

  it("does not count the SDK's own releases (an open breaker hands messages back)", async () => {
    const bus = await open(uniqueName("releases"));
    let healthy = false;
    const handled: string[] = [];
    const sub = await bus.subscribe(
      "jobs",
      {
        group: "g",
        maxRedeliveries: 0,
        deadLetter: "jobs.dlq",
        retry: retry.fixed({ attempts: 1_000, delayMs: 5 }),
        circuitBreaker: { failureThreshold: 1, openMs: 30 },
      },
      (m) => {
        if (!healthy) throw new Error("down");
        handled.push(m.data as string);
      },
    );
    await bus.publish("jobs", "a");
    await waitFor("the breaker to open", () => sub.stats.released >= 3, 5_000);
    healthy = true;
    await waitFor("the message handled", () => handled.length === 1, 5_000);
    assert.deepEqual(await bus.deadLetters("jobs.dlq"), []);
  });
});
