// Connection negotiation values: server properties with RabbitMQ's capabilities, tune limits, SASL checks.
// Invariant: only guest/guest from a loopback address is accepted, by PLAIN or AMQPLAIN.

import * as amqp from "@spindle/protocol/amqp";

export const HEARTBEAT_S = 60;

export function serverProperties(version: string): amqp.FieldTable {
  return {
    product: "Spindle",
    version,
    platform: `Node.js ${process.version}`,
    copyright: "Spindle authors",
    information: "https://github.com/spindle",
    cluster_name: "spindle",
    capabilities: {
      publisher_confirms: true,
      exchange_exchange_bindings: true,
      "basic.nack": true,
      consumer_cancel_notify: true,
      "connection.blocked": true,
      consumer_priorities: false,
      authentication_failure_close: true,
      per_consumer_qos: true,
      direct_reply_to: false,
    },
  };
}

/** The user and password a start-ok carries, or null when the mechanism or response is malformed. */
export function credentials(mechanism: string, response: Buffer): { user: string; pass: string } | null {
  if (mechanism === "PLAIN") {
    const parts = response.toString("utf8").split("\0");
    if (parts.length !== 3) return null;
    return { user: parts[1] ?? "", pass: parts[2] ?? "" };
  }
  if (mechanism === "AMQPLAIN") {
    const framed = Buffer.alloc(4 + response.length);
    framed.writeUInt32BE(response.length, 0);
    response.copy(framed, 4);
    try {
      const t = amqp.fieldValueToPlain(
        amqp.decodeFieldTable(new amqp.WireReader(framed, "AMQPLAIN response")),
      );
      const table = t as Record<string, unknown>;
      return { user: String(table.LOGIN ?? ""), pass: String(table.PASSWORD ?? "") };
    } catch {
      return null;
    }
  }
  return null;
}

export function clientCapability(clientProperties: amqp.AmqpTable, name: string): boolean {
  const plain = amqp.fieldValueToPlain(clientProperties as amqp.FieldTable) as Record<string, unknown>;
  const caps = plain.capabilities as Record<string, unknown> | undefined;
  return caps?.[name] === true;
}
