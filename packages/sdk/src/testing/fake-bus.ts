// A bus on a private memory:// broker driven by a FakeClock, for unit tests of the timing policies.
// Test support only.

import type { Bus, ConnectOptions } from "../bus.ts";
import { connect } from "../index.ts";
import { memoryBroker } from "../transports/memory/memory-broker.ts";
import { FakeClock } from "./fake-clock.ts";
import { uniqueName } from "./wait.ts";

export interface FakeBus {
  readonly bus: Bus;
  readonly clock: FakeClock;
  readonly url: string;
  /** Another connection to the same broker on the same clock (a second service or instance). */
  another(options?: ConnectOptions): Promise<Bus>;
  restart(downMs: number): Promise<void>;
}

export async function fakeBus(options: ConnectOptions = {}): Promise<FakeBus> {
  const clock = new FakeClock();
  const name = uniqueName("unit");
  const url = `memory://${name}`;
  const errors: unknown[] = [];
  const onError = options.onError ?? ((e: unknown) => errors.push(e));
  const bus = await connect(url, { ...options, clock, onError });
  return {
    bus,
    clock,
    url,
    another: (o = {}) => connect(url, { ...o, clock, onError }),
    restart: (downMs) => memoryBroker(name, clock).restart(downMs),
  };
}
