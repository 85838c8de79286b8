// The saga suite on the PostgreSQL server of this machine (127.0.0.1:5432, database `test`) over
// memory://, in tables named for this run and dropped after it.

import { after } from "node:test";
import pg from "pg";
import { connect } from "../index.ts";
import { sagaStoreContract } from "../testing/saga-contract.ts";
import { uniqueName } from "../testing/wait.ts";
import { postgresSagaStore } from "./postgres-saga-store.ts";

const url = process.env.SPINDLE_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/test";
const suffix = `${process.pid}_${Date.now()}`;
const pool = new pg.Pool({ connectionString: url, max: 10 });
const bus = `memory://${uniqueName("pg-sagas")}`;
const created: string[] = [];
let n = 0;

sagaStoreContract("postgres store on memory://", {
  store: () => {
    const table = `sagas_${suffix}_${n++}`;
    created.push(table, `${table}_timeouts`);
    return postgresSagaStore(pool, { table });
  },
  connect: () => connect(bus),
});

after(async () => {
  if (created.length) await pool.query(`DROP TABLE IF EXISTS ${created.join(", ")}`);
  await pool.end();
});
