// The kafka:// transport's connection state for onStatus. Kafka has no one connection: the producer keeps
// one per broker and every subscription a consumer of its own, so the state is what the latest of them
// said — a consumer that failed or a producer connection that dropped makes it `reconnecting`, a consumer
// that joined again or a producer connection made makes it `connected`. Invariant: listeners hear only
// changes (never `connected` twice in a row), and nothing after `closed`.

import type { TransportStatus } from "../transport.ts";

type Listener = (status: TransportStatus, error?: Error) => void;

export class KafkaStatus {
  private state: TransportStatus = "connected";
  private readonly listeners: Listener[] = [];

  on(listener: Listener): void {
    this.listeners.push(listener);
  }

  down(error: Error): void {
    this.set("reconnecting", error);
  }

  up(): void {
    this.set("connected");
  }

  closed(): void {
    this.set("closed");
  }

  private set(next: TransportStatus, error?: Error): void {
    if (this.state === next || this.state === "closed") return;
    this.state = next;
    for (const l of this.listeners) l(next, error);
  }
}
