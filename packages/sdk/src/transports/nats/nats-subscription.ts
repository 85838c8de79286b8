// A subscription on JetStream: the group's durable consumer for the topic and the one for copies sent to
// the group alone, pulled by two loops sharing `prefetch` slots; ack after the handler, nak to release,
// delayed copies naked with the time left until due. Invariant: a copy not yet due never takes a slot.

import type { Consumer, JsMsg } from "@nats-io/jetstream";
import type { Clock, TimerHandle } from "../../lib/clock.ts";
import { DUE_HEADER } from "../delay-tiers.ts";
import type { Delivery, TransportSubscribeOptions, TransportSubscription } from "../transport.ts";
import { fromNats } from "./nats-message.ts";
import type { NatsTransport } from "./nats-transport.ts";
import { PullLoop, Slots } from "./pull-loop.ts";

/** Stream sequences whose naks this subscription remembers (a bound: older ones are forgotten). */
const RETURNED_MAX = 10_000;

/** In-flight deliveries tell the server they are being worked on this often (ack_wait is 30 s). */
const WORKING_EVERY_MS = 10_000;

export class NatsSubscription implements TransportSubscription {
  private readonly slots: Slots;
  private readonly loops: PullLoop[] = [];
  private readonly inflight = new Set<JsMsg>();
  private keepAlive: TimerHandle | undefined;
  private closed = false;
  private mainName = "";
  /**
   * Naks this process sent per stream sequence (releases, copies not yet due): JetStream's delivery count
   * includes them, `redeliveries` must not (it counts deliveries that ended unsettled).
   */
  private readonly returned = new Map<number, number>();
  /** Told once close() begins (the transport forgets the subscription). */
  onClosed: () => void = () => {};

  constructor(
    private readonly t: NatsTransport,
    private readonly clock: Clock,
    readonly topic: string,
    readonly options: TransportSubscribeOptions,
    private readonly onDelivery: (d: Delivery) => void,
  ) {
    this.slots = new Slots(options.prefetch);
  }

  async start(): Promise<void> {
    const { topic, options } = this;
    if (options.temporary) {
      this.mainName = await this.t.ephemeralConsumer(topic);
      this.addLoop(() => this.t.consumer(topic, this.mainName), false);
    } else {
      const names = await this.t.ensureGroup(topic, options.group);
      this.mainName = names.main;
      this.addLoop(() => this.t.consumer(topic, names.main), false);
      this.addLoop(() => this.t.consumer(topic, names.targeted), true);
    }
    this.armKeepAlive();
  }

  private addLoop(consumer: () => Promise<Consumer>, targeted: boolean): void {
    const loop = new PullLoop(consumer, this.slots, this.clock, (m) => this.take(m, targeted));
    this.loops.push(loop);
    loop.start();
  }

  private take(m: JsMsg, targeted: boolean): void {
    if (this.closed) {
      m.nak();
      return;
    }
    if (targeted) {
      // the due time is the publisher's wall clock, as JetStream's own timestamps are
      const left = Number(m.headers?.get(DUE_HEADER) ?? 0) - Date.now();
      if (left > 0) {
        this.countReturn(m);
        m.nak(left);
        return;
      }
    }
    this.inflight.add(m);
    this.slots.used++;
    this.onDelivery(this.delivery(m));
  }

  private delivery(m: JsMsg): Delivery {
    let settled = false;
    const settle = (fn: () => void): Promise<void> => {
      if (settled) return Promise.resolve();
      settled = true;
      if (this.inflight.delete(m)) {
        fn();
        this.slots.release();
      }
      return Promise.resolve();
    };
    return {
      message: fromNats(m.headers, m.data, DUE_HEADER),
      redeliveries: Math.max(0, m.info.deliveryCount - 1 - (this.returned.get(m.seq) ?? 0)),
      ack: () =>
        settle(() => {
          this.returned.delete(m.seq);
          m.ack();
        }),
      release: () =>
        settle(() => {
          this.countReturn(m);
          m.nak();
        }),
    };
  }

  private countReturn(m: JsMsg): void {
    const n = this.returned.get(m.seq) ?? 0;
    this.returned.delete(m.seq);
    this.returned.set(m.seq, n + 1);
    if (this.returned.size > RETURNED_MAX) this.returned.delete(this.returned.keys().next().value as number);
  }

  private armKeepAlive(): void {
    this.keepAlive = this.clock.setTimer(WORKING_EVERY_MS, () => {
      for (const m of this.inflight) m.working();
      if (!this.closed) this.armKeepAlive();
    });
  }

  pause(): void {
    this.slots.paused = true;
  }

  resume(): void {
    this.slots.paused = false;
    this.slots.wake();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.onClosed();
    this.clock.clearTimer(this.keepAlive);
    await Promise.all(this.loops.map((l) => l.close()));
    for (const m of this.inflight) m.nak();
    this.inflight.clear();
    // a temporary topic is this bus's own (request/reply): left behind, each bus would leave a stream
    if (this.options.temporary) await this.t.dropTopic(this.topic);
  }

  async lag(): Promise<number | undefined> {
    const info = await (await this.t.consumer(this.topic, this.mainName)).info();
    return info.num_pending;
  }
}
