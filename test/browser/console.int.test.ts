// The web console in a real browser (Debian's chromium) against a real spindle process: log in, declare a
// queue, publish and watch its depth and the rate charts move, peek, move a dead-lettered message back,
// exchanges and bindings, browse a topic's records, watch a consumer group's lag change and reset it, an
// open Kafka transaction (and its open-for cell turning red past half its timeout), connections.
// Invariant: each step waits for what the page shows (not for time); a screenshot of each page goes to
// artifacts/screenshots/ for a person to look at.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import amqp from "amqplib";
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import type { Page } from "playwright-core";
import { httpApi } from "../support/http-api.ts";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";
import { type Browser, openBrowser, screenshot } from "./browser.ts";

let spindle: SpindleProcess;
let browser: Browser;
let page: Page;
let api: ReturnType<typeof httpApi>;
let kafka: Kafka;
let producer: Producer;
let amqpConn: amqp.ChannelModel | undefined;

before(async () => {
  [spindle, browser] = await Promise.all([startSpindle(), openBrowser()]);
  page = browser.page;
  api = httpApi(spindle.http);
  kafka = new Kafka({ clientId: "console-test", brokers: [spindle.kafka], logLevel: logLevel.NOTHING });
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
});
after(async () => {
  await producer?.disconnect();
  await amqpConn?.close();
  await browser?.close();
  await spindle?.stop();
});

/** Opens a console route and waits for its page to render. */
async function open(route: string, pageName: string): Promise<void> {
  await page.goto(`http://${spindle.http}/#/${route}`);
  await page.locator(`[data-page="${pageName}"]`).waitFor();
}

const statValue = (id: string) => page.locator(`[data-stat="${id}"] .stat-value`);
const legend = (chart: string, series: string) =>
  page.locator(`[data-chart="${chart}"] [data-series="${series}"]`);

/** Waits until a chart's latest value of a series (or its highest so far: `of` = "max") satisfies `ok`. */
async function chartValue(
  chart: string,
  series: string,
  ok: (v: number) => boolean,
  of: "value" | "max" = "value",
): Promise<number> {
  const el = legend(chart, series);
  for (const end = Date.now() + 20_000; Date.now() < end; ) {
    const v = Number((await el.getAttribute(`data-${of}`)) || Number.NaN);
    if (ok(v)) return v;
    await page.waitForTimeout(200);
  }
  throw new Error(
    `chart ${chart}/${series} never showed the value; ${of} ${await el.getAttribute(`data-${of}`)}`,
  );
}

async function submit(form: string, fields: Record<string, string>): Promise<void> {
  const f = page.locator(`[data-form="${form}"]`);
  for (const [name, value] of Object.entries(fields)) await f.locator(`[name="${name}"]`).fill(value);
  await f.locator("button[type=submit]").click();
}

/** A test step that leaves a screenshot of the page as it failed (artifacts/screenshots/failed-<n>.png). */
function step(name: string, fn: () => Promise<void> | void): void {
  test(name, async () => {
    try {
      await fn();
    } catch (e) {
      await screenshot(page, `failed-${name.replace(/\W+/g, "-").slice(0, 40)}`).catch(() => undefined);
      throw e;
    }
  });
}

describe("web console", () => {
  step("logs in with the prefilled guest/guest and shows the overview", async () => {
    await page.goto(`http://${spindle.http}/`);
    await page.locator("form button[type=submit]").waitFor();
    assert.equal(await page.locator("input[name=user]").inputValue(), "guest");
    await screenshot(page, "login");
    await page.locator("form button[type=submit]").click();
    await page.locator('[data-page="overview"]').waitFor();
    await page.locator(".badge.live").waitFor();
  });

  step("declares a queue, publishes, and the depth and rate charts follow", async () => {
    await open("queues", "queues");
    await submit("declare-queue", { name: "orders" });
    await page.locator('tr[data-queue="orders"]').waitFor();
    await page.locator('tr[data-queue="orders"] a').click();
    await page.locator('[data-page="queues-detail"]').waitFor();
    for (const n of [1, 2, 3]) {
      await submit("publish", { payload: `order-${n}` });
      await page
        .getByRole("status")
        .filter({ hasText: /^published$/ })
        .waitFor();
    }
    await assertText(statValue("ready"), "3");
    await chartValue("queue-depth", "ready", (v) => v === 3);
    // Queue rates are 5 s samples, and a queue's first sample only starts its counters: publish on over
    // more than a sample interval so the rate chart has something to show.
    const publishing = publishFor(8000);
    await chartValue("queue-rates", "publish", (v) => v > 0, "max");
    await publishing;
    await screenshot(page, "queue");
    await open("queues", "queues");
    const { body } = await api<{ messages: number }>("GET", "/api/queues/%2F/orders");
    assert.ok(body.messages > 3);
    await assertText(page.locator('tr[data-queue="orders"] [data-col="messages"]'), String(body.messages));
    await screenshot(page, "queues");
  });

  step("the overview's charts follow publishes as they happen", async () => {
    await open("", "overview");
    const publishing = publishFor(4000);
    await chartValue("message-rates", "published", (v) => v > 0, "max");
    const queued = (await api<{ messages: number }>("GET", "/api/queues/%2F/orders")).body.messages;
    await chartValue("queued", "ready", (v) => v > queued);
    await publishing;
    await assertText(statValue("alarms"), "none");
    await screenshot(page, "overview");
  });

  step("peeks at a queue's messages without consuming them", async () => {
    await open("queues/orders", "queues-detail");
    await submit("peek", {});
    const table = page.locator('[data-table="peek"]');
    await table.getByText("order-1").waitFor();
    await table.getByText("order-2").waitFor();
    const res = await api<{ messages: number }>("GET", "/api/queues/%2F/orders");
    assert.ok(res.body.messages >= 3, "peek left the messages in the queue");
  });

  step("moves a dead-lettered message back to its queue, with progress", async () => {
    const dlx = { "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "work.dlq" };
    await open("queues", "queues");
    await submit("declare-queue", { name: "work", arguments: JSON.stringify(dlx) });
    await page.locator('tr[data-queue="work"]').waitFor();
    await submit("declare-queue", { name: "work.dlq", arguments: "" });
    await page.locator('tr[data-queue="work.dlq"]').waitFor();
    amqpConn = await amqp.connect(spindle.url);
    const ch = await amqpConn.createConfirmChannel();
    ch.sendToQueue("work", Buffer.from("job-42"), { persistent: true });
    await ch.waitForConfirms();
    const msg = await ch.get("work", { noAck: false });
    assert.ok(msg !== false, "the job is in the queue");
    ch.nack(msg, false, false); // rejected: dead-lettered to work.dlq

    await open("queues/work.dlq", "queues-detail");
    await assertText(statValue("ready"), "1");
    await submit("peek", {});
    await page
      .locator('[data-table="peek"]')
      .getByText(/x-death: rejected@work/)
      .waitFor();
    await submit("move", { destination: "work" });
    await page.locator('[data-progress="done"]').waitFor();
    await page.getByRole("status").filter({ hasText: "moved 1 message to work" }).waitFor();
    await assertText(statValue("ready"), "0");
    await screenshot(page, "queue-move");
    const back = await ch.get("work", { noAck: true });
    assert.ok(back !== false && back.content.toString() === "job-42", "the job is back in work");
  });

  step("declares an exchange and binds a queue to it", async () => {
    await open("exchanges", "exchanges");
    await page.locator('tr[data-exchange="amq.topic"]').waitFor();
    const f = page.locator('[data-form="declare-exchange"]');
    await f.locator('[name="name"]').fill("events");
    await f.locator('[name="type"]').selectOption("fanout");
    await f.locator("button[type=submit]").click();
    await page.locator('tr[data-exchange="events"] a').click();
    await page.locator('[data-page="exchanges-detail"]').waitFor();
    await submit("bind", { destination: "orders", routing_key: "new" });
    await page.locator('[data-table="bindings-destination"]').getByText("orders").waitFor();
    await screenshot(page, "exchange");
    await open("exchanges", "exchanges");
    await page.locator('tr[data-exchange="events"]').waitFor();
    await screenshot(page, "exchanges");
  });

  step("lists topics and browses records by offset and by time", async () => {
    await api("PUT", "/api/topics/clicks", { partitions: 2 });
    const producedAt = Date.now();
    await producer.send({
      topic: "clicks",
      messages: Array.from({ length: 10 }, (_, i) => ({
        key: `user-${i % 3}`,
        value: JSON.stringify({ page: `/p/${i}`, n: i }),
        headers: { source: "test" },
        partition: i % 2,
      })),
    });
    await open("topics", "topics");
    await assertText(page.locator('tr[data-topic="clicks"] [data-col="messages"]'), "10");
    await screenshot(page, "topics");
    await page.locator('tr[data-topic="clicks"] a').click();
    await page.locator('[data-page="topics-detail"]').waitFor();
    await submit("records", { offset: "2" });
    const records = page.locator('[data-table="records"] tbody tr');
    await records.first().waitFor();
    assert.equal(await records.count(), 3, "partition 0 holds offsets 0-4; from 2 that is 3 records");
    await page.locator('[data-table="records"]').getByText('"/p/4"', { exact: false }).waitFor();
    await page.locator('[data-form="records"] [name="by"]').selectOption("timestamp");
    await page.locator('[data-form="records"] [name="time"]').fill(localDateTime(producedAt - 60_000));
    await page.locator('[data-form="records"] button[type=submit]').click();
    await page.locator('[data-table="records"] tbody tr').nth(4).waitFor();
    assert.equal(await records.count(), 5, "every record of partition 0 is newer than a minute ago");
    await screenshot(page, "topic");
  });

  step("a consumer group's lag follows produces and an offset reset", async () => {
    const consumer = kafka.consumer({ groupId: "billing", sessionTimeout: 10_000 });
    await consumer.connect();
    await consumer.subscribe({ topics: ["clicks"], fromBeginning: true });
    let seen = 0;
    const all = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async () => {
          seen += 1;
          if (seen === 10) resolve();
        },
      });
    });
    await all;
    await consumer.disconnect(); // commits what it consumed and leaves: offsets can be reset

    await open("groups", "groups");
    await assertText(page.locator('tr[data-group="billing"] [data-col="lag"]'), "0");
    await screenshot(page, "groups");
    await page.locator('tr[data-group="billing"] a').click();
    await page.locator('[data-page="groups-detail"]').waitFor();
    await assertText(statValue("lag"), "0");
    await producer.send({
      topic: "clicks",
      messages: Array.from({ length: 5 }, (_, i) => ({ value: `late-${i}`, partition: 0 })),
    });
    await assertText(statValue("lag"), "5");
    await chartValue("group-lag", "lag", (v) => v === 5);
    const f = page.locator('[data-form="reset-offsets"]');
    await f.locator('[name="to"]').selectOption("earliest");
    await f.locator("button[type=submit]").click();
    await page.getByRole("status").filter({ hasText: "reset to earliest" }).waitFor();
    await assertText(statValue("lag"), "15");
    await chartValue("group-lag", "lag", (v) => v === 15);
    await assertText(page.locator('[data-partition="clicks:0"] [data-col="lag"]'), "10");
    await screenshot(page, "group");
  });

  step("an open Kafka transaction shows with its partition held back, then as committed", async () => {
    const txp = kafka.producer({ transactionalId: "console-tx", idempotent: true, maxInFlightRequests: 1 });
    await txp.connect();
    const txn = await txp.transaction();
    try {
      await txn.send({
        topic: "clicks",
        messages: [
          { value: "in-txn-1", partition: 1 },
          { value: "in-txn-2", partition: 1 },
        ],
      });
      await open("transactions", "transactions");
      await assertText(page.locator('tr[data-txn="console-tx"] [data-col="state"]'), "Ongoing");
      await screenshot(page, "transactions");
      await page.locator('tr[data-txn="console-tx"] a').click();
      await page.locator('[data-page="transactions-detail"]').waitFor();
      await assertText(statValue("state"), "Ongoing");
      const row = page.locator('[data-partition="clicks:1"]');
      const end = Number(await row.locator('[data-col="end"]').textContent());
      const lso = Number(await row.locator('[data-col="lso"]').textContent());
      assert.ok(lso <= end - 2, `the LSO ${lso} is held below the transaction's records (end ${end})`);
      await screenshot(page, "transaction");
      await txn.commit();
      await assertText(statValue("state"), "CompleteCommit");
    } finally {
      await txp.disconnect();
    }
  });

  step("an open transaction's open-for cell turns red past half its timeout, not before", async () => {
    const timeoutMs = 6000; // the coordinator aborts it past the timeout: every look below comes well before
    const txp = kafka.producer({
      transactionalId: "console-late",
      transactionTimeout: timeoutMs,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await txp.connect();
    const txn = await txp.transaction();
    try {
      await txn.send({ topic: "clicks", messages: [{ value: "late", partition: 0 }] });
      /** Opens the list afresh (its first poll) and reads the row as drawn: state, duration, late or not. */
      const look = async () => {
        await open("connections", "connections"); // a light page: the look stays short
        await open("transactions", "transactions");
        const row = page.locator('tr[data-txn="console-late"]');
        await row.waitFor();
        return row.evaluate((tr) => {
          const { document, getComputedStyle } = tr.ownerDocument.defaultView!;
          const cell = tr.querySelector('[data-col="duration"]')!;
          const probe = document.body.appendChild(document.createElement("span"));
          probe.style.color = "var(--danger)";
          const danger = getComputedStyle(probe).color;
          probe.remove();
          return {
            state: tr.querySelector('[data-col="state"]')!.textContent,
            shownMs: Number(cell.textContent!.replace(/\D/g, "")),
            red: getComputedStyle(cell).color === danger,
          };
        });
      };
      /** Waits until the coordinator says the transaction has been open longer than `ms`. */
      const openLongerThan = async (ms: number) => {
        for (;;) {
          const { body } = await api<{ transactional_id: string; duration_ms: number | null }[]>(
            "GET",
            "/api/transactions",
          );
          const t = body.find((x) => x.transactional_id === "console-late");
          if (t?.duration_ms == null) throw new Error(`the transaction is not open: ${JSON.stringify(t)}`);
          if (t.duration_ms > ms) return;
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      const looks = [await look()];
      await openLongerThan(timeoutMs / 4);
      looks.push(await look()); // well past the first look, still short of half the timeout
      await openLongerThan(timeoutMs / 2 + 100);
      looks.push(await look());
      await screenshot(page, "transactions-late");
      for (const l of looks) {
        assert.equal(l.state, "Ongoing", JSON.stringify(looks));
        assert.equal(
          l.red,
          l.shownMs > timeoutMs / 2,
          `red iff past half the timeout: ${JSON.stringify(looks)}`,
        );
      }
      assert.ok(
        looks[1]!.shownMs < timeoutMs / 2 && !looks[1]!.red,
        `not red before: ${JSON.stringify(looks)}`,
      );
      assert.ok(looks[2]!.red, `red after: ${JSON.stringify(looks)}`);
    } finally {
      await txn.abort().catch(() => undefined); // past its timeout the coordinator may have aborted it
      await txp.disconnect();
    }
  });

  step("lists connections and channels", async () => {
    await open("connections", "connections");
    await page.locator('[data-table="connections"] tbody tr').first().waitFor();
    await page.locator('[data-table="channels"] tbody tr').first().waitFor();
    await screenshot(page, "connections");
  });

  step("the page raised no errors", () => {
    assert.deepEqual(browser.errors, []);
  });
});

async function assertText(locator: ReturnType<Page["locator"]>, text: string): Promise<void> {
  try {
    await locator.filter({ hasText: new RegExp(`^${text}$`) }).waitFor();
  } catch (e) {
    throw new Error(
      `expected "${text}", the page shows "${await locator.textContent().catch(() => "?")}": ${e}`,
    );
  }
}

/** Publishes to `orders` over HTTP every 100 ms for `ms`, as a client would while the overview is open. */
async function publishFor(ms: number): Promise<void> {
  const end = Date.now() + ms;
  const body = { properties: {}, routing_key: "orders", payload: "tick", payload_encoding: "string" };
  while (Date.now() < end) {
    const res = await api("POST", "/api/exchanges/%2F/amq.default/publish", body);
    assert.equal(res.status, 200);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A datetime-local input's value for a time, in the browser's (this machine's) time zone. */
function localDateTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
