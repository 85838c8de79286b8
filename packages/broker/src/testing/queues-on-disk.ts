// Durable queues on a real temporary directory, opened again over the same files (a clean restart), for
// the tests of what reads a queue's log (peek, move). Test support only.
// Invariant: every store made here shares one fake clock and writes under its own temp dir.

import { join } from "node:path";
import { nodeFs, silentLogger } from "../lib/index.ts";
import { createMessage, type Message, type QueuedMessage } from "../queues/message.ts";
import type { Queue } from "../queues/queue.ts";
import { QueueStore } from "../queues/queue-store.ts";
import { FakeClock } from "./fake-clock.ts";
import { tempDir } from "./temp-dir.ts";

/** Opens durable queues by name under one temp dir; `recovered`: as a restart does. */
export function queuesOnDisk(what: string) {
  const dir = join(tempDir(what), "queues");
  const clock = new FakeClock();
  const store = () =>
    new QueueStore({ fs: nodeFs, dir, clock, logger: silentLogger, fsync: { mode: "group" } });
  let current = store();
  return {
    clock,
    open(name: string, args: Record<string, unknown> = {}, recovered = false): Promise<Queue> {
      const opts = { name, durable: true, exclusiveOwner: null, autoDelete: false, args };
      return current.open(opts, recovered);
    },
    /** a new store over the same files, as after a restart */
    restart(): void {
      current = store();
    },
  };
}

/** A persistent message whose routing key is its id, with opaque property bytes that name it too. */
export function idMessage(id: number, opts: { priority?: number; body?: string } = {}): Message {
  return createMessage({
    exchange: "ex",
    routingKey: String(id),
    properties: Buffer.from(`props-${id}\u0000\u00ff`, "latin1"),
    body: Buffer.from(opts.body ?? `m${id}`),
    persistent: true,
    priority: opts.priority,
  });
}

export const idOf = (qm: QueuedMessage | { message: Message }): number => Number(qm.message.routingKey);

/** Every ready message of `q`, by basic.get without ack (they stay unacked). */
export async function drainIds(q: Queue): Promise<number[]> {
  const ids: number[] = [];
  for (let qm = await q.get(false); qm !== null; qm = await q.get(false)) ids.push(idOf(qm));
  return ids;
}
