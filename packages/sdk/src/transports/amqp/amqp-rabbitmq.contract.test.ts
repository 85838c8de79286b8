// The transport contract suite on amqp:// against the RabbitMQ on 127.0.0.1:5672 (no delayed-message
// plugin: delayed copies wait in TTL queues). Everything declared carries this run's pid and is deleted.

import { after } from "node:test";
import { deleteRabbitMqNames, RABBITMQ_URL } from "../../../../../test/support/rabbitmq.ts";
import { connect } from "../../index.ts";
import { transportContract } from "../../testing/contract.ts";

after(async () => {
  await deleteRabbitMqNames(`-${process.pid}-`);
});

transportContract("amqp → RabbitMQ", {
  connect: (options) => connect(RABBITMQ_URL, options),
});
