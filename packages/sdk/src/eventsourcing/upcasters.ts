// Event versioning: each event carries the version of its data's shape (`schemaVersion`), and upcasters
// turn an old shape into the next one on read, so old streams and old messages stay readable after the
// code moved on. Invariant: an event leaves `upcast` at its type's current version (the highest
// `fromVersion` registered + 1), or an error says which step is missing.

import type { Message } from "../envelope/envelope.ts";

export interface UpcastStep {
  /** The event type this step reads. */
  readonly type: string;
  /** The version it reads; it produces `fromVersion + 1`. */
  readonly fromVersion: number;
  /** The new data from the old (and the whole event, for metadata). */
  readonly upcast: (data: unknown, event: Versioned) => unknown;
  /** A new type name, when the step also renames the event. */
  readonly toType?: string;
}

/** The part of an event (stored or received) that versioning looks at. */
export interface Versioned {
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: unknown;
}

/** The CloudEvents extension that carries an event's schema version on the bus. */
export const DATA_VERSION_EXTENSION = "dataversion";

const STEPS_MAX = 100;

export class Upcasters {
  private readonly steps = new Map<string, Map<number, UpcastStep>>();
  private readonly current = new Map<string, number>();

  constructor(steps: readonly UpcastStep[] = []) {
    for (const s of steps) this.register(s);
  }

  register(step: UpcastStep): this {
    if (!Number.isInteger(step.fromVersion) || step.fromVersion < 1) {
      throw new TypeError(`upcaster for ${step.type}: fromVersion must be an integer ≥ 1`);
    }
    let byVersion = this.steps.get(step.type);
    if (byVersion === undefined) {
      byVersion = new Map();
      this.steps.set(step.type, byVersion);
    }
    if (byVersion.has(step.fromVersion)) {
      throw new TypeError(`upcaster for ${step.type} v${step.fromVersion} is registered twice`);
    }
    byVersion.set(step.fromVersion, step);
    const to = step.toType ?? step.type;
    this.current.set(to, Math.max(this.current.get(to) ?? 1, step.fromVersion + 1));
    return this;
  }

  /** The version new events of `type` are written at: 1 unless upcasters bring older ones here. */
  currentVersion(type: string): number {
    return this.current.get(type) ?? 1;
  }

  /** `event` at its type's current version (itself when already there). */
  upcast<E extends Versioned>(event: E): E {
    let e: E = event;
    for (let n = 0; n < STEPS_MAX; n++) {
      const step = this.steps.get(e.type)?.get(e.schemaVersion);
      if (step === undefined) {
        const want = this.currentVersion(e.type);
        if (e.schemaVersion < want) {
          throw new Error(`no upcaster for ${e.type} v${e.schemaVersion} (the current version is ${want})`);
        }
        return e;
      }
      e = {
        ...e,
        type: step.toType ?? e.type,
        schemaVersion: e.schemaVersion + 1,
        data: step.upcast(e.data, e),
      };
    }
    throw new Error(`upcasting ${event.type} v${event.schemaVersion} took more than ${STEPS_MAX} steps`);
  }

  /** A received message's type, schema version (its `dataversion`, 1 when absent) and data, upcast. */
  fromMessage(m: Pick<Message, "type" | "data" | "attributes">): Versioned {
    const v = Number(m.attributes.extensions[DATA_VERSION_EXTENSION] ?? 1);
    return this.upcast({ type: m.type, schemaVersion: Number.isInteger(v) && v >= 1 ? v : 1, data: m.data });
  }
}
