// An embedded broker whose worker thread dies after starting (not by close()) is started again on the same
// ports and data: the connected bus reconnects and keeps consuming, and a new connect() gets a live broker.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { connect } from "../../index.ts";
import { waitFor } from "../../testing/wait.ts";
import { crashEmbeddedBroker } from "./embedded-broker.ts";

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
