// Two group writes in flight at once: the second starts while the first waits for the disk, the groups are
// acknowledged in order whichever write finishes first, and a failure of the first takes the second with it
// (a full disk cuts both and the log goes on at the first's offsets once space is back).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type FileHandle, type Fs, isBrokerError, silentLogger } from "../lib/index.ts";
import { FakeClock, FaultFs, hookHandle } from "../testing/index.ts";
import { FileLog } from "./file-log.ts";
import { logConfig, readAll } from "./log-contract.ts";

const DIR = "/data/log";

/** A segment write the test holds until it says so; it then runs against the FaultFs. */
interface HeldWrite {
  pos: number;
  release(): void;
}

/** A FaultFs whose segment writes wait in `held` while `holding` is set. */
class GatedFs {
  holding = false;
  readonly held: HeldWrite[] = [];
  constructor(readonly inner: FaultFs) {}

  fs(): Fs {
    const gate = this;
    return new Proxy(this.inner, {
      get(target, prop) {
        if (prop !== "open") return Reflect.get(target, prop).bind(target);
        return async (path: string, mode: "r" | "rw" | "create", dsync?: boolean) => {
          const fh = await target.open(path, mode, dsync);
          return path.endsWith(".log") ? gate.gated(fh) : fh;
        };
      },
    });
  }

  private gated(fh: FileHandle): FileHandle {
    const wait = async (pos: number) => {
      if (!this.holding) return;
      await new Promise<void>((release) => this.held.push({ pos, release }));
    };
    return hookHandle(fh, {
      write: async (buf, position) => {
        await wait(position);
        return fh.write(buf, position);
      },
      writev: async (bufs, position) => {
        await wait(position);
        return fh.writev(bufs, position);
      },
    });
  }

  async waitForHeld(n: number): Promise<void> {
    for (let i = 0; i < 100 && this.held.length < n; i++) await new Promise((r) => setImmediate(r));
    assert.equal(this.held.length, n, `${n} writes held`);
  }
}

const open = (fs: Fs) =>
  FileLog.open({
    fs,
    dir: DIR,
    config: logConfig({ segmentBytes: 1024 * 1024, fsync: { mode: "group" } }),
    clock: new FakeClock(),
    logger: silentLogger,
  });
const rec = (v: string) => [{ value: Buffer.from(v) }];
const values = async (log: FileLog) => (await readAll(log, 0)).map(([o, v]) => `${o}:${v}`);
const settled = async (p: Promise<unknown>) => {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return done;
};

/** A log holding "0", with "a" and then "b" each appended in a write the gate holds. */
async function twoHeldWrites(fault = new FaultFs()) {
  const gated = new GatedFs(fault);
  const log = await open(gated.fs());
  await log.appendRecords(rec("0"));
  gated.holding = true;
  const first = log.appendRecords(rec("a"));
  await gated.waitForHeld(1);
  const second = log.appendRecords(rec("b"));
  await gated.waitForHeld(2); // written beside the first, right after its bytes
  return { gated, log, first, second };
}

describe("group writes in flight", () => {
  it("starts the next group's write while the first waits, and acknowledges them in order", async () => {
    const { gated, log, first, second } = await twoHeldWrites();
    assert.ok(gated.held[1]!.pos > gated.held[0]!.pos);
    const third = log.appendRecords(rec("c")); // two in flight: it waits its turn
    gated.held[1]!.release();
    assert.equal(await settled(second), false, "the second group waits for the first to be acknowledged");
    assert.equal(log.endOffset, 1);
    gated.holding = false;
    gated.held[0]!.release();
    assert.deepEqual(await first, { baseOffset: 1, lastOffset: 1 });
    assert.deepEqual(await second, { baseOffset: 2, lastOffset: 2 });
    assert.deepEqual(await third, { baseOffset: 3, lastOffset: 3 });
    assert.deepEqual(await values(log), ["0:0", "1:a", "2:b", "3:c"]);
    await log.close();
    const reopened = await open(gated.inner);
    assert.deepEqual(await values(reopened), ["0:0", "1:a", "2:b", "3:c"]);
    await reopened.close();
  });

  it("a full disk on the first write refuses both groups, even when the second was written", async () => {
    const fault = new FaultFs();
    const { gated, log, first, second } = await twoHeldWrites(fault);
    gated.holding = false;
    gated.held[1]!.release(); // the second lands on disk
    await new Promise((r) => setImmediate(r));
    fault.failOn("write", "ENOSPC");
    gated.held[0]!.release(); // the first does not
    const full = (e: unknown) => isBrokerError(e, "DISK_FULL");
    await assert.rejects(first, full);
    await assert.rejects(second, full);
    assert.equal(log.endOffset, 1);
    assert.deepEqual(await values(log), ["0:0"]);
    fault.clearFailures();
    assert.ok(await log.retryWrites());
    assert.deepEqual(await log.appendRecords(rec("c")), { baseOffset: 1, lastOffset: 1 });
    assert.deepEqual(await values(log), ["0:0", "1:c"]);
    await log.close();
    const reopened = await open(fault);
    assert.deepEqual(await values(reopened), ["0:0", "1:c"]);
    await reopened.close();
  });

  it("a crash that kept the second write but not the first: recovery cuts the log at the hole", async () => {
    const fault = new FaultFs();
    const { gated, first, second } = await twoHeldWrites(fault);
    for (const p of [first, second]) p.catch(() => {}); // the process "dies" before they settle
    gated.held[1]!.release(); // O_DSYNC: the second is on disk, after the zeros where the first goes
    await new Promise((r) => setImmediate(r));
    const after = fault.crash({ next: () => 0, int: () => 0 });
    const reopened = await open(after);
    assert.deepEqual(await values(reopened), ["0:0"]);
    assert.deepEqual(await reopened.appendRecords(rec("c")), { baseOffset: 1, lastOffset: 1 });
    assert.deepEqual(await values(reopened), ["0:0", "1:c"]);
    await reopened.close();
  });
});
