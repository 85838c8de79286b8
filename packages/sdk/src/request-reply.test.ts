import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Message } from "./envelope/envelope.ts";
import { NonRetryableError, RequestTimeoutError } from "./errors.ts";
import { RemoteError, Requester } from "./request-reply.ts";
import { fakeBus } from "./testing/fake-bus.ts";
import { FakeClock, settle } from "./testing/fake-clock.ts";

describe("request/reply (fake clock)", () => {
  it("the handler's return value is the reply, matched to its request, with correlation carried", async () => {
    const { bus, clock, another } = await fakeBus();
    const server = await another();
    await server.subscribe("prices", { group: "pricing", concurrency: 4 }, (m) => {
      const { sku } = m.data as { sku: string };
      return { sku, cents: sku.length * 100 };
    });
    const a = bus.request("prices", { sku: "abc" }, { correlationId: "checkout-1" });
    const b = bus.request("prices", { sku: "abcdef" });
    await clock.advance(10);
    const [ra, rb] = await Promise.all([a, b]);
    assert.deepEqual(ra.data, { sku: "abc", cents: 300 });
    assert.deepEqual(rb.data, { sku: "abcdef", cents: 600 });
    assert.equal(ra.correlationId, "checkout-1");
    await server.close();
    await bus.close();
  });

  it("no responder: RequestTimeoutError after timeoutMs", async () => {
    const { bus, clock } = await fakeBus();
    const r = bus.request("nobody", 1, { timeoutMs: 500 });
    const check = assert.rejects(r, RequestTimeoutError);
    await clock.advance(500);
    await check;
    await bus.close();
  });

  it("a responder that fails for good answers with RemoteError instead of a timeout", async () => {
    const { bus, clock, another } = await fakeBus();
    const server = await another();
    await server.subscribe("div", { group: "math", retry: false }, (m) => {
      if (m.data === 0) throw new NonRetryableError("division by zero");
      return 1 / (m.data as number);
    });
    const r = bus.request("div", 0, { timeoutMs: 10_000 });
    const check = assert.rejects(
      r,
      (e: Error) => e instanceof RemoteError && e.message === "division by zero",
    );
    await clock.advance(10);
    await check;
    await server.close();
    await bus.close();
  });

  it("a timeout that fires while the request is still being published is not an unhandled rejection", async () => {
    const clock = new FakeClock();
    let published!: () => void;
    const requester = new Requester({
      clock,
      publish: () => new Promise<string>((resolve) => (published = () => resolve("id"))),
      subscribeReplies: async (_topic: string, _h: (m: Message) => void) => {},
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    try {
      const r = requester.request("slow", 1, { timeoutMs: 300 });
      const check = assert.rejects(r, RequestTimeoutError);
      await clock.advance(300); // the timer fires; publish has not returned (a loaded broker)
      for (let i = 0; i < 5; i++) await settle();
      published();
      await check;
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });
});
