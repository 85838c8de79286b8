// The amqp:// adapter's entry, loaded by the transport registry on first use (amqplib with it).
export { createAmqpTransport as createTransport } from "./amqp-transport.ts";
