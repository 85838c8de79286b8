// An embedded broker whose worker thread dies after starting (not by close()) is started again on the same
// ports and data: the connected bus reconnects and keeps consuming, and a new connect() gets a live broker.
// One that cannot be restarted, or keeps dying soon after starting, is dropped with a warning, and the next
// connect() starts a fresh one.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { connect } from "../../index.ts";
import { waitFor } from "../../testing/wait.ts";
import { crashEmbeddedBroker } from "./embedded-broker.ts";

/** The warnings emitted while `fn` runs. */
async function withWarnings(fn: (warnings: string[]) => Promise<void>): Promise<void> {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on("warning", onWarning);
  try {
    await fn(warnings);
  } finally {
    process.off("warning", onWarning);
  }
}

/** A bus on a fresh broker gets a message published on it. */
async function roundTrip(url: string, topic: string): Promise<void> {
  const bus = await connect(url);
  try {
    const got: string[] = [];
    await bus.subscribe(topic, { group: "g" }, (m) => {
      got.push(m.data as string);
    });
    await bus.publish(topic, "hello");
    await waitFor(`a message on ${topic}`, () => got.includes("hello"), 10_000);
  } finally {
    await bus.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), "spindle-sdk-embedded-crash-"));
after(() => rmSync(dir, { recursive: true, force: true }));

it("a broker thread that dies is restarted: the bus gets later messages, connect() works", async () => {
  const url = `embedded://${dir}?fsync=never`;
  const bus = await connect(url);
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on("warning", onWarning);
  try {
    const got: number[] = [];
    await bus.subscribe("orders", { group: "billing" }, (m) => {
      got.push(m.data as number);
    });
    await bus.publish("orders", 1);
    await waitFor("the first message", () => got.includes(1));

    await crashEmbeddedBroker(new URL(url));
    await waitFor("the crash warning", () => warnings.some((w) => w.includes("restarting")));
    assert.ok(
      warnings.some((w) => w.includes(dir)),
      "the warning names the directory",
    );

    await bus.publish("orders", 2);
    await waitFor("a message published after the crash", () => got.includes(2), 30_000);

    const other = await connect(url);
    try {
      await other.publish("orders", 3);
      await waitFor("a message from a new connection", () => got.includes(3), 10_000);
    } finally {
      await other.close();
    }
  } finally {
    process.off("warning", onWarning);
    await bus.close();
  }
});

it("a broker that cannot be restarted is dropped with a warning, and the next connect() starts afresh", async () => {
  const data = join(dir, "unrestartable");
  mkdirSync(data);
  const url = `embedded://${data}?fsync=never`;
  await withWarnings(async (warnings) => {
    const bus = await connect(url);
    try {
      await crashEmbeddedBroker(new URL(url));
      // the restart finds a file where its data directory was
      renameSync(data, `${data}.away`);
      writeFileSync(data, "not a directory");
      await waitFor("the failed restart's warning", () =>
        warnings.some((w) => w.includes("could not be restarted") && w.includes(data)),
      );
      await assert.rejects(crashEmbeddedBroker(new URL(url)), /no embedded broker runs/);
      rmSync(data);
      renameSync(`${data}.away`, data);
      await roundTrip(url, "after-failed-restart");
    } finally {
      await bus.close();
    }
  });
});

it("a broker that dies 5 times in a row soon after starting is given up on; the next connect() starts afresh", async () => {
  const data = join(dir, "crashing");
  const url = `embedded://${data}?fsync=never`;
  await withWarnings(async (warnings) => {
    const bus = await connect(url);
    try {
      for (let i = 1; i <= 5; i++) {
        await crashEmbeddedBroker(new URL(url)); // waits for the restart before it, at least 1 s apart
        await waitFor(
          `crash ${i}'s warning`,
          () => warnings.filter((w) => w.includes("stopped")).length === i,
        );
      }
      assert.equal(warnings.filter((w) => w.includes("restarting it")).length, 4);
      assert.ok(warnings.at(-1)?.includes("not restarted: it died 5 times in a row"));
      await assert.rejects(crashEmbeddedBroker(new URL(url)), /no embedded broker runs/);
      await roundTrip(url, "after-giving-up");
    } finally {
      await bus.close();
    }
  });
});
