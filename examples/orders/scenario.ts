// What the example does with the running system, as its clients and operators would: seed stock and
// users, place orders over HTTP (polling status URLs or waiting for callbacks), feed one poison message,
// redrive it once the parser is fixed, then check every order's outcome against the money and the stock
// and query the read models. Invariant: it fails (throws) rather than print counts it did not verify.

import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { textSerializer } from "@spindle/sdk";
import type { App } from "./app.ts";
import type { Order, OrderInput } from "./orders.ts";
import { emailsSent } from "./services/email.ts";
import { available } from "./services/inventory.ts";
import { streamOf, userSummary, userTransactions } from "./wallet.ts";

export interface Counts {
  placed: number;
  completed: number;
  compensated: number;
  deadLettered: number;
  redriven: number;
}

const SKU = "sku-1";
const USERS = [
  ["alice", "Alice", 1000],
  ["bob", "Bob", 100],
  ["carol", "Carol", 500],
  ["dave", "Dave", 200],
  ["erin", "Erin", 100_000],
] as const;
const STOCK = 10_000;
const t0 = performance.now();
const log = (s: string) => console.error(`orders: [${((performance.now() - t0) / 1000).toFixed(1)} s] ${s}`);

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A client's callback endpoint: collects the orders POSTed to it. */
async function callbackReceiver() {
  const got = new Map<string, Order>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const order = JSON.parse(Buffer.concat(chunks).toString()) as Order;
      got.set(order.id, order);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/order-done`;
  return { url, got, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function orderList(callbackUrl: string, extra: number): OrderInput[] {
  const o = (userId: string, amount: number, cb = false): OrderInput => ({
    userId,
    sku: SKU,
    qty: 1,
    amount,
    ...(cb ? { callbackUrl } : {}),
  });
  return [
    ...[100, 100, 100, 100].map((a, i) => o("alice", a, i % 2 === 0)), // 400 of 1000: all paid
    ...[60, 60, 60].map((a) => o("bob", a, true)), // 100 covers one: two are declined
    o("carol", 200),
    o("carol", 200),
    o("carol", 900), // over the 100 left: declined
    ...Array.from({ length: extra }, () => o("erin", 10)),
  ];
}

export async function runScenario(app: App, o: { extraOrders: number }): Promise<Counts> {
  const { db, tables: t, bus, config } = app;
  await db.run(`INSERT INTO ${t.stock} (sku, available) VALUES ($1, $2)`, [SKU, STOCK]);
  for (const [id, name, balance] of USERS) {
    await app.createUser(id, name, balance);
  }
  const callbacks = await callbackReceiver();
  try {
    const bad = await fetch(`${app.api.url}/orders`, { method: "POST", body: '{"userId":"alice"}' });
    log(`POST /orders with no sku: ${bad.status} ${JSON.stringify(await bad.json())}`);

    // 1. orders over HTTP: 202 Accepted and a status URL
    const placed: { id: string; statusUrl: string; callback: boolean }[] = [];
    for (const input of orderList(callbacks.url, o.extraOrders)) {
      const res = await fetch(`${app.api.url}/orders`, { method: "POST", body: JSON.stringify(input) });
      const body = (await res.json()) as { id: string; statusUrl: string };
      if (res.status !== 202 || res.headers.get("location") !== body.statusUrl) {
        throw new Error(`POST /orders answered ${res.status} ${JSON.stringify(body)}`);
      }
      placed.push({ ...body, callback: input.callbackUrl !== undefined });
    }
    log(`${placed.length} orders accepted (202), e.g. ${placed[0]!.statusUrl}`);

    // 2. the partner feed's poison message: malformed JSON (a trailing comma)
    const dlq = `${config.topics.partnerFeed}.intake.dlq`;
    const poisonId = await bus.publish(
      config.topics.partnerFeed,
      '{"userId":"dave","sku":"sku-1","qty":1,"amount":50,}',
      { serializer: textSerializer, type: "PartnerOrder" },
    );
    await until("the poison message in the DLQ", 30_000, async () =>
      app.intake.subscription.stats.deadLettered >= 1 ? true : undefined,
    );
    const [letter] = await bus.deadLetters(dlq);
    const f = app.intake.failures;
    const gaps = f.slice(1).map((ms, i) => `${ms - f[i]!} ms`);
    log(`poison message failed ${f.length}× (retries after ${gaps.join(", ")}), then went to the DLQ`);
    log(
      `dead letter in ${dlq}: ${letter?.attempts} attempts, ${letter?.error.name}: ${letter?.error.message}`,
    );
    const deadLettered = app.intake.subscription.stats.deadLettered;
    app.intake.acceptTrailingCommas(); // the fix ships
    const { redriven } = await bus.redrive(dlq);
    log(`parser fixed; redrove ${redriven} from ${dlq}`);
    const partnerOrder = `ord-partner-${poisonId}`;

    // 3. every order reaches its outcome: status URLs polled, callbacks awaited
    const outcomes = new Map<string, Order>();
    await until("every order's outcome", 60_000, async () => {
      for (const p of placed) {
        if (outcomes.has(p.id)) continue;
        if (p.callback) {
          const done = callbacks.got.get(p.id);
          if (done) outcomes.set(p.id, done);
          continue;
        }
        const order = (await (await fetch(p.statusUrl)).json()) as Order;
        if (order.status !== "pending") outcomes.set(p.id, order);
      }
      const partner = await app.orders.get(partnerOrder);
      if (partner && partner.status !== "pending") outcomes.set(partner.id, partner);
      return outcomes.size === placed.length + 1 ? true : undefined;
    });
    const all = [...outcomes.values()];
    return await verify(app, all, { deadLettered, redriven, callbacks: callbacks.got.size });
  } finally {
    await callbacks.close();
  }
}

/** Checks money, stock, mails and read models against the outcomes; returns the counts. */
async function verify(
  app: App,
  orders: Order[],
  seen: { deadLettered: number; redriven: number; callbacks: number },
): Promise<Counts> {
  const { db, tables: t } = app;
  const completed = orders.filter((o) => o.status === "completed");
  const cancelled = orders.filter((o) => o.status === "cancelled");
  let compensated = 0;
  for (const o of cancelled) if ((await app.sagas.get(o.id))?.status === "compensated") compensated++;

  // money: every completed order charged exactly once, no cancelled order charged
  // (per stream: PostgreSQL's readAll stops below the oldest open transaction anywhere in the cluster)
  const charges = new Map<string, number>();
  for (const user of USERS) {
    for (const e of await app.events.readStream(streamOf(user[0]))) {
      if (e.type !== "BALANCE_DEDUCTED") continue;
      const id = (e.data as { orderId: string }).orderId;
      charges.set(id, (charges.get(id) ?? 0) + 1);
    }
  }
  for (const o of completed) {
    if (charges.get(o.id) !== 1)
      throw new Error(`order ${o.id} completed but charged ${charges.get(o.id) ?? 0}×`);
  }
  for (const o of cancelled) {
    if (charges.has(o.id)) throw new Error(`order ${o.id} was cancelled but charged`);
  }
  // stock: the cancelled orders' reservations were released
  const left = await available(db, t, SKU);
  const sold = completed.reduce((n, o) => n + o.qty, 0);
  if (left !== STOCK - sold) throw new Error(`stock ${left}, expected ${STOCK - sold} (${sold} sold)`);
  // mail: one on receipt and one on the outcome of each order (rate-limited: 20/s)
  await until("every email", 30_000, async () =>
    (await emailsSent(db, t)) === 2 * orders.length ? true : undefined,
  );
  // read models: caught up, and each user's balance is the sum of their transactions
  await until("the projections to catch up", 30_000, async () => {
    for (const p of app.projectors) if ((await p.lag()).events > 0) return undefined;
    return true;
  });
  for (const [user] of USERS) {
    const summary = await userSummary(db, t, user);
    const txs = await userTransactions(db, t, user);
    const sum = txs.reduce((n, x) => n + (x.kind === "CREDIT" ? x.amount : -x.amount), 0);
    if (summary === undefined || summary.balance !== sum) {
      throw new Error(`user ${user}: summary ${JSON.stringify(summary)} but transactions sum to ${sum}`);
    }
  }
  const bob = await fetch(`${app.api.url}/users/bob`).then((r) => r.json());
  const bobTx = (await fetch(`${app.api.url}/users/bob/transactions`).then((r) => r.json())) as unknown[];
  log(`GET /users/bob → ${JSON.stringify(bob)}`);
  log(
    `GET /users/bob/transactions → ${bobTx.length} rows: ${JSON.stringify(bobTx.map((x) => `${(x as { kind: string; amount: number }).kind} ${(x as { amount: number }).amount}`))}`,
  );
  log(`${seen.callbacks} callbacks received, ${charges.size} charges, ${left} ${SKU} left`);
  return {
    placed: orders.length,
    completed: completed.length,
    compensated,
    deadLettered: seen.deadLettered,
    redriven: seen.redriven,
  };
}
