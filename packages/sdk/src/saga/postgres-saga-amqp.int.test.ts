// The saga suite on PostgreSQL over the RabbitMQ on 127.0.0.1:5672: commands, replies and timeouts
// through a real broker (durable reply queues, competing orchestrators), in tables and queues named for
// this run and removed after it.

import { after } from "node:test";
import pg from "pg";
import { deleteRabbitMqNames, RABBITMQ_URL } from "../../../../test/support/rabbitmq.ts";
import { connect } from "../index.ts";
import { sagaStoreContract } from "../testing/saga-contract.ts";
import { postgresSagaStore } from "./postgres-saga-store.ts";

const url = process.env.SPINDLE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const suffix = `${process.pid}_${Date.now()}`;
const pool = new pg.Pool({ connectionString: url, max: 10 });
const created: string[] = [];
let n = 0;

sagaStoreContract("postgres store on RabbitMQ", {
  store: () => {
    const table = `sagas_amqp_${suffix}_${n++}`;
    created.push(table, `${table}_timeouts`);
    return postgresSagaStore(pool, { table });
  },
  connect: () => connect(RABBITMQ_URL),
  stepTimeoutMs: 2000,
});

after(async () => {
  if (created.length) await pool.query(`DROP TABLE IF EXISTS ${created.join(", ")}`);
  await pool.end();
  await deleteRabbitMqNames(`-${process.pid}-`);
});
