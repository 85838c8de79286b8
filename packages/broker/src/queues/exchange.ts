// Exchanges and their bindings: which destinations a message's routing key and headers select.
// Invariant: a binding is identified by (source, destination kind, destination, routing key, arguments).

import { headersMatch, topicMatches } from "./matching.ts";
import type { HeadersOf } from "./message.ts";

export const EXCHANGE_TYPES = ["direct", "fanout", "topic", "headers"] as const;
export type ExchangeType = (typeof EXCHANGE_TYPES)[number];

export function isExchangeType(t: string): t is ExchangeType {
  return (EXCHANGE_TYPES as readonly string[]).includes(t);
}

export type Args = Readonly<Record<string, unknown>>;

export interface ExchangeDef {
  readonly name: string;
  /** a routing type, or x-delayed-message (which routes by its x-delayed-type argument) */
  readonly type: ExchangeType | "x-delayed-message";
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly internal: boolean;
  readonly args: Args;
}

export interface Binding {
  readonly source: string;
  readonly destKind: "queue" | "exchange";
  readonly destination: string;
  readonly routingKey: string;
  readonly args: Args;
}

export function bindingId(b: Binding): string {
  return JSON.stringify([b.source, b.destKind, b.destination, b.routingKey, canonical(b.args)]);
}

/** JSON with sorted keys, so equal argument tables compare equal. */
export function canonical(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(",")}}`;
}

export class Exchange {
  private readonly bindings = new Map<string, Binding>();
  private readonly direct = new Map<string, Binding[]>();

  constructor(readonly def: ExchangeDef) {}

  get name(): string {
    return this.def.name;
  }

  get bindingCount(): number {
    return this.bindings.size;
  }

  /** Returns false when the binding was already there. */
  bind(b: Binding): boolean {
    const id = bindingId(b);
    if (this.bindings.has(id)) return false;
    this.bindings.set(id, b);
    const list = this.direct.get(b.routingKey);
    if (list) list.push(b);
    else this.direct.set(b.routingKey, [b]);
    return true;
  }

  /** Returns false when there was no such binding. */
  unbind(b: Binding): boolean {
    const id = bindingId(b);
    if (!this.bindings.delete(id)) return false;
    const list = this.direct.get(b.routingKey) ?? [];
    const rest = list.filter((x) => bindingId(x) !== id);
    if (rest.length === 0) this.direct.delete(b.routingKey);
    else this.direct.set(b.routingKey, rest);
    return true;
  }

  /** Bindings to or from `name` of `kind`, for deleting a queue or exchange. */
  bindingsTo(kind: "queue" | "exchange", name: string): Binding[] {
    return [...this.bindings.values()].filter((b) => b.destKind === kind && b.destination === name);
  }

  allBindings(): Binding[] {
    return [...this.bindings.values()];
  }

  /** The bindings this message matches (its headers are read only by a headers exchange). */
  route(routingKey: string, headers: HeadersOf): readonly Binding[] {
    const type =
      this.def.type === "x-delayed-message"
        ? (this.def.args["x-delayed-type"] as ExchangeType)
        : this.def.type;
    switch (type) {
      case "direct":
        return this.direct.get(routingKey) ?? [];
      case "fanout":
        return [...this.bindings.values()];
      case "topic":
        return [...this.bindings.values()].filter((b) => topicMatches(b.routingKey, routingKey));
      case "headers": {
        const h = headers();
        return [...this.bindings.values()].filter((b) => headersMatch(b.args, h));
      }
    }
  }
}
