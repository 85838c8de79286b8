// The embedded:// transport: a Spindle broker inside this process (one per data directory, on free
// ports), spoken to over AMQP by the amqp adapter — a broker for tests and single-process services with
// no container. Invariant: close() closes the connection first, then stops the broker if it was the last.

import { createAmqpTransport } from "../amqp/amqp-transport.ts";
import type { Transport, TransportContext } from "../transport.ts";
import { acquireBroker } from "./embedded-broker.ts";

export async function createEmbeddedTransport(context: TransportContext): Promise<Transport> {
  // amqplib loads while the broker starts (both are mostly module loading)
  void import("amqplib").catch(() => {});
  const { broker, release } = await acquireBroker(context.url);
  try {
    const url = new URL(`amqp://guest:guest@${broker.addresses.amqp}`);
    return await createAmqpTransport(
      { url, clock: context.clock },
      { system: "embedded", afterClose: release },
    );
  } catch (e) {
    await release();
    throw e;
  }
}
