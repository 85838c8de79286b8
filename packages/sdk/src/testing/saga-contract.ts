// The saga suite: orchestrated sagas against every saga store (memory, SQLite, PostgreSQL) on a real
// transport, with responders that are plain subscriptions behind an inbox. Invariant: nothing here
// depends on the store or the transport; the harness supplies both.

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { Bus, Handler } from "../bus.ts";
import type { Message } from "../envelope/envelope.ts";
import { NonRetryableError } from "../errors.ts";
import { reactions, sagaTimeouts } from "../saga/choreography.ts";
import { type SagaOrchestrator, sagaOrchestrator } from "../saga/orchestrator.ts";
import { defineSaga, type SagaDefinition, type SagaState, type SagaStatus } from "../saga/saga.ts";
import type { SagaStore } from "../saga/saga-store.ts";
import { MemoryInbox } from "../stores/memory-inbox.ts";
import { uniqueName, waitFor } from "./wait.ts";

export interface SagaHarness {
  /** A fresh, empty saga store. */
  store(): Promise<SagaStore>;
  /** A new connection to the transport under test (the same broker every time). */
  connect(): Promise<Bus>;
  readonly timeoutMs?: number;
  /** The hotel step's reply timeout (default 400 ms): longer where a broker takes longer. */
  readonly stepTimeoutMs?: number;
}

interface Trip {
  tripId: string;
  flight?: string;
  hotel?: string;
  car?: string;
  failAt?: string;
}

export function sagaStoreContract(name: string, h: SagaHarness): void {
  const timeoutMs = h.timeoutMs ?? 15_000;
  const stepMs = h.stepTimeoutMs ?? 400;
  const closers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  });
  const bus = async (): Promise<Bus> => {
    const b = await h.connect();
    closers.push(() => b.close());
    return b;
  };
  const store = async (): Promise<SagaStore> => {
    const s = await h.store();
    closers.push(() => s.close());
    return s;
  };
  const orchestrate = async (
    b: Bus,
    s: SagaStore,
    // biome-ignore lint/suspicious/noExplicitAny: sagas of any data
    sagas: SagaDefinition<any>[],
    orchestratorName: string,
  ): Promise<SagaOrchestrator> => {
    const o = await sagaOrchestrator(b, { store: s, sagas, name: orchestratorName, sweepIntervalMs: 50 });
    closers.push(() => o.close());
    return o;
  };
  const respond = async (b: Bus, topic: string, handler: Handler): Promise<void> => {
    await b.subscribe(
      topic,
      { group: "responder", concurrency: 8, retry: false, idempotent: new MemoryInbox() },
      handler,
    );
  };
  const until = async (o: SagaOrchestrator, id: string, status: SagaStatus): Promise<SagaState<Trip>> => {
    let last: SagaState<Trip> | undefined;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      last = await o.get<Trip>(id);
      if (last?.status === status) return last;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail(`saga ${id} is ${last?.status} (${last?.error}), not ${status}`);
  };

  /** book flight (command) → book hotel (command) → rent car (local call); a log of what ran, in order. */
  const tripSaga = (
    topic: string,
    log: string[],
    extra: Partial<SagaDefinition<Trip>> = {},
    hotelTimeoutMs: number | undefined = stepMs,
  ) =>
    defineSaga<Trip>({
      name: uniqueName("trip"),
      steps: [
        {
          name: "flight",
          command: (d) => ({ topic, type: "BookFlight", data: d }),
          onReply: (d, r) => ({ ...d, flight: (r as { ref: string }).ref }),
          compensate: (d) => ({ topic, type: "CancelFlight", data: d }),
        },
        {
          name: "hotel",
          command: (d) => ({ topic, type: "BookHotel", data: d }),
          onReply: (d, r) => ({ ...d, hotel: (r as { ref: string }).ref }),
          compensate: (d) => ({ topic, type: "CancelHotel", data: d }),
          ...(hotelTimeoutMs === undefined ? {} : { timeoutMs: hotelTimeoutMs }),
        },
        {
          name: "car",
          invoke: (d, ctx) => {
            log.push(`RentCar ${ctx.idempotencyKey}`);
            if (d.failAt === "RentCar") throw new Error("no cars left");
            return { ...d, car: "car-1" };
          },
          undo: () => void log.push("ReturnCar"),
        },
      ],
      onCompleted: (d) => void log.push(`completed ${d.tripId}`),
      onCompensated: (d, error) => void log.push(`compensated ${d.tripId}: ${error}`),
      ...extra,
    });

  /** Replies with a reference for bookings, fails where the trip says, replies late to `silent` types. */
  const travelAgent =
    (log: string[], silent: string[] = []): Handler =>
    (m) => {
      const trip = m.data as Trip;
      log.push(m.type);
      // too late: the reply comes after the step's timeout (and holds the key's later commands back)
      if (silent.includes(m.type))
        return new Promise((r) => setTimeout(() => r({ ref: "late" }), stepMs + 600));
      if (trip.failAt === m.type) throw new NonRetryableError(`${m.type} refused`);
      return { ref: `${m.type}-${trip.tripId}` };
    };

  describe(`saga contract: ${name}`, () => {
    it("runs every step and completes: command replies change the data, local calls run once", async () => {
      const [b, s] = [await bus(), await store()];
      const topic = uniqueName("travel");
      const log: string[] = [];
      await respond(b, topic, travelAgent(log));
      const trip = tripSaga(topic, log);
      const o = await orchestrate(b, s, [trip], uniqueName("o"));
      await assert.rejects(o.start("unused", {}), /no saga "unused"/u);
      assert.deepEqual(await o.list(), []);
      const tripName = trip.name;
      const tripId = await o.start(tripName, { tripId: "t1" }, { id: "t1" });
      const done = await o.finished<Trip>(tripId, { timeoutMs });
      assert.equal(done.status, "completed");
      assert.deepEqual(done.data, {
        tripId: "t1",
        flight: "BookFlight-t1",
        hotel: "BookHotel-t1",
        car: "car-1",
      });
      assert.deepEqual(log, ["BookFlight", "BookHotel", "RentCar saga:t1/2/do", "completed t1"]);
      assert.deepEqual(
        done.history.map((e) => `${e.step} ${e.event}`),
        ["0 started", "0 succeeded", "1 succeeded", "2 succeeded"],
      );
      assert.equal(done.step, 3);
      assert.equal(await o.start(tripName, { tripId: "other" }, { id: "t1" }), "t1", "start is idempotent");
      assert.equal((await o.get<Trip>("t1"))?.data.tripId, "t1");
      assert.deepEqual(
        (await o.list({ status: "completed" })).map((x) => x.id),
        ["t1"],
      );
      assert.deepEqual(await o.list({ status: "running" }), []);
    });

    it("compensates the completed steps in reverse order when a step fails (error reply or local call)", async () => {
      const [b, s] = [await bus(), await store()];
      const topic = uniqueName("travel");
      const log: string[] = [];
      await respond(b, topic, travelAgent(log));
      const trip = tripSaga(topic, log);
      const o = await orchestrate(b, s, [trip], uniqueName("o"));
      await o.start(trip.name, { tripId: "t2", failAt: "RentCar" }, { id: "t2" });
      const undone = await until(o, "t2", "compensated");
      assert.deepEqual(log, [
        "BookFlight",
        "BookHotel",
        "RentCar saga:t2/2/do",
        "CancelHotel",
        "CancelFlight",
        "compensated t2: no cars left",
      ]);
      assert.equal(undone.step, -1);
      assert.equal(undone.error, "no cars left");
      assert.deepEqual(
        undone.history.map((e) => `${e.step} ${e.event}`),
        ["0 started", "0 succeeded", "1 succeeded", "2 failed", "1 compensated", "0 compensated"],
      );
      log.length = 0;
      await o.start(trip.name, { tripId: "t3", failAt: "BookHotel" }, { id: "t3" });
      const t3 = await until(o, "t3", "compensated");
      assert.deepEqual(log, [
        "BookFlight",
        "BookHotel",
        "CancelFlight",
        "compensated t3: hotel failed: BookHotel refused",
      ]);
      assert.match(t3.error ?? "", /BookHotel refused/u);
    });

    it("a step without a reply times out: it and the steps before it are compensated", async () => {
      const [b, s] = [await bus(), await store()];
      const topic = uniqueName("travel");
      const log: string[] = [];
      await respond(b, topic, travelAgent(log, ["BookHotel"]));
      const trip = tripSaga(topic, log);
      const o = await orchestrate(b, s, [trip], uniqueName("o"));
      const started = Date.now();
      await o.start(trip.name, { tripId: "t4" }, { id: "t4" });
      const t4 = await until(o, "t4", "compensated");
      assert.ok(Date.now() - started >= stepMs - 50, `timed out after ${Date.now() - started} ms`);
      assert.deepEqual(log.slice(0, 4), ["BookFlight", "BookHotel", "CancelHotel", "CancelFlight"]);
      assert.match(t4.error ?? "", new RegExp(`hotel: no reply within ${stepMs} ms`, "u"));
      assert.deepEqual(
        // the late hotel reply holds CancelHotel back past its timeout too: it may be re-sent (same id)
        t4.history.filter((e) => e.event !== "resent").map((e) => `${e.step} ${e.event}`),
        ["0 started", "0 succeeded", "1 timed-out", "1 compensated", "0 compensated"],
      );
    });

    it("the whole saga's timeout compensates it", async () => {
      const [b, s] = [await bus(), await store()];
      const topic = uniqueName("travel");
      const log: string[] = [];
      await respond(b, topic, travelAgent(log, ["BookFlight"]));
      const trip = tripSaga(topic, log, { timeoutMs: 200 });
      const o = await orchestrate(b, s, [trip], uniqueName("o"));
      await o.start(trip.name, { tripId: "t5" }, { id: "t5" });
      const t5 = await until(o, "t5", "compensated");
      assert.match(t5.error ?? "", /timed out after 200 ms/u);
      assert.deepEqual(log.slice(0, 2), ["BookFlight", "CancelFlight"]);
    });

    it("a duplicate reply is ignored: a step advances once", async () => {
      const [b, s] = [await bus(), await store()];
      const topic = uniqueName("travel");
      const log: string[] = [];
      const orchestratorName = uniqueName("o");
      let release: () => void = () => {};
      const hotelHeld = new Promise<void>((r) => {
        release = r;
      });
      const flightIds: string[] = [];
      let hotelSeen = false;
      const agent = travelAgent(log);
      await respond(b, topic, async (m, ctx) => {
        if (m.type === "BookFlight") flightIds.push(m.id);
        if (m.type === "BookHotel") {
          hotelSeen = true;
          await hotelHeld;
        }
        return agent(m, ctx);
      });
      const trip = tripSaga(topic, log, {}, undefined); // the hotel waits as long as the test holds it
      const o = await orchestrate(b, s, [trip], orchestratorName);
      await o.start(trip.name, { tripId: "t6" }, { id: "t6" });
      await waitFor("the hotel command", () => hotelSeen, timeoutMs);
      const before = await o.get<Trip>("t6");
      for (let i = 0; i < 3; i++) {
        await b.publish(
          `saga.${orchestratorName}.replies`,
          { ref: `dup-${i}` },
          { causationId: flightIds[0] as string, correlationId: "t6" },
        );
      }
      await new Promise((r) => setTimeout(r, 300));
      const during = await o.get<Trip>("t6");
      assert.equal(during?.version, before?.version, "the duplicates changed nothing");
      assert.equal(during?.data.flight, "BookFlight-t6");
      release();
      const done = await until(o, "t6", "completed");
      assert.equal(done.history.filter((e) => e.step === 0 && e.event === "succeeded").length, 1);
      assert.equal(log.filter((l) => l === "BookHotel").length, 1);
    });

    it("compensation that keeps failing is re-sent with the same id, then the saga is failed", async () => {
      const [b, s] = [await bus(), await store()];
      const topic = uniqueName("travel");
      const cancels: string[] = [];
      const failed: string[] = [];
      await respond(b, topic, (m) => {
        if (m.type === "CancelFlight") {
          cancels.push(m.id);
          throw new NonRetryableError("the airline is down");
        }
        if (m.type === "BookHotel") throw new NonRetryableError("full");
        return { ref: m.type };
      });
      const trip = tripSaga(topic, [], { onFailed: (_d, e) => void failed.push(e) });
      const o = await orchestrate(b, s, [trip], uniqueName("o"));
      await o.start(trip.name, { tripId: "t7" }, { id: "t7" });
      const t7 = await until(o, "t7", "failed");
      assert.equal(cancels.length, 3, "three attempts");
      assert.equal(new Set(cancels).size, 1, "one command id");
      assert.match(t7.error ?? "", /airline is down \(after 3 attempts\)/u);
      assert.equal(failed.length, 1);
      assert.deepEqual(
        (await o.list({ status: "failed" })).map((x) => x.id),
        ["t7"],
      );
    });

    it("a new orchestrator resumes: re-sends the pending command and re-arms its timer", async () => {
      const s = await store();
      const [b1, b2] = [await bus(), await bus()];
      const topic = uniqueName("travel");
      const log: string[] = [];
      const orchestratorName = uniqueName("o");
      const trip = tripSaga(topic, log);
      const first = await orchestrate(b1, s, [trip], orchestratorName);
      await first.start(trip.name, { tripId: "t8" }, { id: "t8" }); // nobody answers yet
      const held = (await first.get("t8"))?.pending;
      assert.equal(held?.id, "saga:t8/0/do");
      await first.close();
      await b1.close();
      await respond(b2, topic, travelAgent(log, ["BookHotel"]));
      const second = await orchestrate(b2, s, [trip], orchestratorName);
      const t8 = await until(second, "t8", "compensated");
      assert.equal(log.filter((l) => l === "BookFlight").length, 1, "the inbox dropped the re-send");
      assert.deepEqual(
        // the late hotel reply holds CancelHotel back past its timeout too: it may be re-sent (same id)
        t8.history.filter((e) => e.event !== "resent").map((e) => `${e.step} ${e.event}`),
        ["0 started", "0 succeeded", "1 timed-out", "1 compensated", "0 compensated"],
      );
    });

    it("two orchestrators on one store never advance a saga twice", async () => {
      const s = await store();
      const [b1, b2] = [await bus(), await bus()];
      const topic = uniqueName("travel");
      const orchestratorName = uniqueName("o");
      const log: string[] = [];
      const agent = travelAgent(log);
      // every reply is sent twice, so both orchestrators race on the same versions
      await respond(b1, topic, async (m, ctx) => {
        const r = await agent(m, ctx);
        await b1.publish(`saga.${orchestratorName}.replies`, r, { causationId: m.id, correlationId: m.id });
        return r;
      });
      const trip = tripSaga(topic, log);
      // reads take a while, so the two orchestrators' read-decide-write cycles overlap
      const slow: SagaStore = Object.assign(Object.create(s) as SagaStore, {
        get: async (id: string) => {
          const r = await s.get(id);
          await new Promise((resolve) => setTimeout(resolve, 15));
          return r;
        },
      });
      const one = await orchestrate(b1, slow, [trip], orchestratorName);
      const two = await orchestrate(b2, slow, [trip], orchestratorName);
      const ids = Array.from({ length: 10 }, (_, i) => `c${i}`);
      await Promise.all(ids.map((id, i) => (i % 2 ? one : two).start(trip.name, { tripId: id }, { id })));
      for (const id of ids) {
        const done = await until(one, id, "completed");
        assert.deepEqual(
          done.history.map((e) => `${e.step} ${e.event}`),
          ["0 started", "0 succeeded", "1 succeeded", "2 succeeded"],
          id,
        );
        assert.equal(done.version, 7, `${id}: 1 start + 2 × (send, reply) + car + complete`);
      }
      assert.equal(log.filter((l) => l === "BookHotel").length, ids.length, "each hotel booked once");
      // only the writer that won a step goes on to the next: the local call and the hook ran once each
      assert.equal(log.filter((l) => l.startsWith("RentCar")).length, ids.length, "each car rented once");
      assert.equal(log.filter((l) => l.startsWith("completed")).length, ids.length, "each completed once");
    });

    it("choreography: reactions carry correlation and causation ids; a timeout compensates a silent step", async () => {
      const [b, s] = [await bus(), await store()];
      const evt = uniqueName("shop");
      const timeouts = sagaTimeouts(b, { store: s, pollIntervalMs: 50 });
      closers.push(() => timeouts.close());
      interface Order {
        orderId: string;
        pay: boolean;
      }
      const audit: Message<Order>[] = [];
      await b.subscribe<Order>(evt, { group: "audit" }, (m) => void audit.push(m));
      await b.subscribe(
        evt,
        { group: "inventory" },
        reactions(
          {
            OrderPlaced: async (m, ctx) => {
              await ctx.expect("payment", stepMs, { topic: evt, type: "PaymentTimedOut", data: m.data });
              await ctx.emit(evt, "StockReserved", m.data);
            },
            PaymentSucceeded: (_m, ctx) => ctx.fulfil("payment"),
            PaymentTimedOut: (m, ctx) => ctx.emit(evt, "StockReleased", m.data),
          },
          { timeouts },
        ),
      );
      await b.subscribe(
        evt,
        { group: "payment" },
        reactions({
          StockReserved: async (m, ctx) => {
            if ((m.data as Order).pay) await ctx.emit(evt, "PaymentSucceeded", m.data);
          },
        }),
      );
      await b.publish(evt, { orderId: "a", pay: true }, { id: "a", type: "OrderPlaced" });
      await b.publish(evt, { orderId: "b", pay: false }, { id: "b", type: "OrderPlaced" });
      const of = (order: string, type: string) =>
        audit.filter((m) => m.data.orderId === order && m.type === type);
      await waitFor("b's stock released", () => of("b", "StockReleased").length > 0, timeoutMs);
      // a redelivered OrderPlaced cannot revive the timeout that fired
      await b.publish(evt, { orderId: "b", pay: false }, { id: "b", type: "OrderPlaced" });
      await new Promise((r) => setTimeout(r, 600));
      const chain = (order: string) =>
        audit
          .filter((m) => m.data.orderId === order)
          .map((m) => `${m.type} ${m.correlationId} ${m.causationId ?? "-"} ${m.id}`);
      const reserveA = `a>${evt}/StockReserved`;
      assert.deepEqual(chain("a"), [
        "OrderPlaced a - a",
        `StockReserved a a ${reserveA}`,
        `PaymentSucceeded a ${reserveA} ${reserveA}>${evt}/PaymentSucceeded`,
      ]);
      const reserveB = `b>${evt}/StockReserved`;
      assert.deepEqual(chain("b").slice(0, 4), [
        "OrderPlaced b - b",
        `StockReserved b b ${reserveB}`,
        "PaymentTimedOut b b timeout:b/payment",
        `StockReleased b timeout:b/payment timeout:b/payment>${evt}/StockReleased`,
      ]);
      assert.equal(of("b", "PaymentTimedOut").length, 1, "the timeout fired once");
      assert.equal(of("a", "PaymentTimedOut").length, 0, "a's payment came in time");
      assert.equal(await s.timeoutPending("a/payment"), false);
    });

    it("a saga whose process died inside a local call is moved on by the sweep of another orchestrator", async () => {
      const [b, s] = [await bus(), await store()];
      const topic = uniqueName("travel");
      const log: string[] = [];
      const trip = tripSaga(topic, log);
      const o = await orchestrate(b, s, [trip], uniqueName("o"));
      const now = Date.now();
      // what a process leaves when it dies renting the car: step 2 stored, nothing pending, due by now
      await s.create({
        id: "t9",
        name: trip.name,
        status: "running",
        step: 2,
        data: { tripId: "t9", flight: "f", hotel: "h" },
        version: 5,
        startedAt: now - 60_000,
        updatedAt: now - 30_000,
        history: [],
        dueAt: now - 1,
      });
      const t9 = await o.finished<Trip>("t9", { timeoutMs });
      assert.equal(t9.status, "completed");
      assert.equal(t9.data.car, "car-1");
      assert.deepEqual(log, ["RentCar saga:t9/2/do", "completed t9"]);
    });

    it("choreography timeouts outlive their process: a new scheduler fires what the closed one left", async () => {
      const [b, s] = [await bus(), await store()];
      const evt = uniqueName("late");
      const seen: Message[] = [];
      await b.subscribe(evt, { group: "audit" }, (m) => void seen.push(m));
      const first = sagaTimeouts(b, { store: s, pollIntervalMs: 50 });
      assert.equal(
        await first.schedule("k1/reply", 150, { topic: evt, type: "NoReply", data: { k: 1 } }),
        true,
      );
      assert.equal(
        await first.schedule("k2/reply", 150, { topic: evt, type: "NoReply", data: { k: 2 } }),
        true,
      );
      assert.equal(await first.cancel("k2/reply"), true);
      await first.close();
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(seen.length, 0, "nothing fires while no scheduler runs");
      const second = sagaTimeouts(b, { store: s, pollIntervalMs: 50 });
      closers.push(() => second.close());
      await waitFor("the left timeout", () => seen.length > 0, timeoutMs);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(
        seen.map((m) => `${m.type} ${m.id} ${JSON.stringify(m.data)}`),
        ['NoReply timeout:k1/reply {"k":1}'],
      );
      assert.equal(await second.cancel("k1/reply"), false, "fired: too late to cancel");
    });

    it("the store refuses a write from a stale version and answers queries", async () => {
      const s = await store();
      const base: SagaState = {
        id: "x1",
        name: "n",
        status: "running",
        step: 0,
        data: { a: 1 },
        version: 1,
        startedAt: 1,
        updatedAt: 1,
        history: [],
        dueAt: 50,
      };
      assert.equal(await s.create(base), true);
      assert.equal(await s.create(base), false);
      const writes = await Promise.all([
        s.update({ ...base, version: 2, data: { a: 2 } }),
        s.update({ ...base, version: 2, data: { a: 3 } }),
      ]);
      assert.deepEqual(writes.sort(), [false, true]);
      assert.equal(await s.update({ ...base, version: 4 }), false);
      assert.equal((await s.get("x1"))?.version, 2);
      assert.equal(await s.get("nope"), undefined);
      await s.create({ ...base, id: "x0", status: "completed", dueAt: 10 });
      await s.create({ ...base, id: "x2", dueAt: 100 });
      assert.deepEqual(
        (await s.due(60, 10)).map((x) => x.id),
        ["x1"],
      );
      assert.deepEqual(
        (await s.due(100, 10)).map((x) => x.id),
        ["x1", "x2"],
      );
      assert.deepEqual(
        (await s.list({ status: "running" })).map((x) => x.id),
        ["x1", "x2"],
      );
      assert.deepEqual(
        (await s.list({ afterId: "x0", limit: 1 })).map((x) => x.id),
        ["x1"],
      );
      await assert.rejects(s.list({ limit: 0 }), /limit must be an integer/u);
      const t = { id: "to1", dueAt: 10, topic: "t", data: { x: 1 }, correlationId: "c" };
      assert.equal(await s.scheduleTimeout(t), true);
      assert.equal(await s.scheduleTimeout(t), false);
      assert.deepEqual(await s.dueTimeouts(9, 10), []);
      assert.deepEqual(await s.dueTimeouts(10, 10), [t]);
      assert.equal(await s.timeoutPending("to1"), true);
      assert.equal(await s.cancelTimeout("to1"), true);
      assert.equal(await s.cancelTimeout("to1"), false);
      assert.equal(await s.timeoutPending("to1"), false);
      assert.equal(await s.scheduleTimeout(t), false, "a cancelled timeout stays done");
      assert.deepEqual(await s.dueTimeouts(10, 10), []);
      await s.scheduleTimeout({ ...t, id: "to2", dueAt: 20 });
      assert.equal(await s.completeTimeout("to2"), true);
      assert.equal(await s.cancelTimeout("to2"), false, "fired: too late to cancel");
      assert.equal(await s.purgeTimeouts(15), 1);
      assert.equal(await s.scheduleTimeout(t), true, "purged: the id is free again");
    });
  });
}
