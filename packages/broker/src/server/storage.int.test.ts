// Integration tests for openStorage on a real temp dir: probe, LOCK, stale-lock replacement.
// Invariant: every storage opened here is closed, and every temp dir removed.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { BrokerError, silentLogger } from "../lib/index.ts";
import { LOCK_FILE, openStorage } from "./storage.ts";

const fsync = { mode: "group" } as const;

const tempDirs: string[] = [];
after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "spindle-storage-"));
  tempDirs.push(dir);
  return dir;
}

/** The pid of a process that has already exited: a lock holding it is stale. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
    encoding: "utf8",
  });
  return Number(r.stdout);
}

test("creates a missing data dir, locks it with our pid and leaves no probe behind", async () => {
  const dataDir = join(tempDir(), "nested", "data");
  const storage = await openStorage({ dataDir, fsync }, silentLogger);
  try {
    assert.equal(readFileSync(join(dataDir, LOCK_FILE), "utf8").trim(), String(process.pid));
    assert.deepEqual(readdirSync(dataDir).sort(), [LOCK_FILE, "meta"]);
  } finally {
    await storage.close();
  }
  assert.equal(existsSync(join(dataDir, LOCK_FILE)), false);
});

test("keeps meta definitions across a close and reopen", async () => {
  const dataDir = tempDir();
  const first = await openStorage({ dataDir, fsync }, silentLogger);
  await first.meta.put("queue", "orders", { durable: true });
  await first.close();
  const second = await openStorage({ dataDir, fsync }, silentLogger);
  assert.deepEqual(second.meta.get("queue", "orders"), { durable: true });
  await second.close();
});

test("replaces a lock left by a dead process", async () => {
  const dataDir = tempDir();
  writeFileSync(join(dataDir, LOCK_FILE), `${deadPid()}\n`);
  const storage = await openStorage({ dataDir, fsync }, silentLogger);
  assert.equal(readFileSync(join(dataDir, LOCK_FILE), "utf8").trim(), String(process.pid));
  await storage.close();
});

test("refuses a lock held by a live process, naming its pid", async () => {
  const dataDir = tempDir();
  const live = process.ppid;
  writeFileSync(join(dataDir, LOCK_FILE), `${live}\n`);
  await assert.rejects(openStorage({ dataDir, fsync }, silentLogger), (e: unknown) => {
    assert.ok(e instanceof BrokerError && e.code === "STORAGE_UNAVAILABLE");
    assert.match(e.message, new RegExp(`in use by another broker \\(pid ${live}\\)`));
    return true;
  });
  assert.equal(
    readFileSync(join(dataDir, LOCK_FILE), "utf8").trim(),
    String(live),
    "their lock is untouched",
  );
});

test("a second open in the same process is refused until the first closes", async () => {
  const dataDir = tempDir();
  const first = await openStorage({ dataDir, fsync }, silentLogger);
  await assert.rejects(openStorage({ dataDir, fsync }, silentLogger), /in use by this process/);
  await first.close();
  const again = await openStorage({ dataDir, fsync }, silentLogger);
  await again.close();
});

test("a data dir under a regular file is reported as unusable", async () => {
  const file = join(tempDir(), "f");
  writeFileSync(file, "x");
  await assert.rejects(openStorage({ dataDir: join(file, "d"), fsync }, silentLogger), (e: unknown) => {
    assert.ok(e instanceof BrokerError && e.code === "STORAGE_UNAVAILABLE");
    assert.match(e.message, /^cannot create data directory .* \(a path component is not a directory\)$/);
    return true;
  });
});
