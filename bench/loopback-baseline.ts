// The loopback TCP limit, measured in the same run: one connection streaming 1 MiB writes to a reader
// that discards them (iperf3-style, single stream), in MB/s; and Debian's iperf3 itself, one stream.

import { spawn, spawnSync } from "node:child_process";
import { connect, createServer } from "node:net";

export async function measureLoopback(totalMiB = 2048): Promise<number> {
  const total = totalMiB * 1024 * 1024;
  let received = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const server = createServer((s) => {
    s.on("data", (b: Buffer) => {
      received += b.length;
      if (received >= total) done();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  const chunk = Buffer.alloc(1024 * 1024, 1);
  const client = connect(port, "127.0.0.1");
  await new Promise<void>((r) => client.once("connect", () => r()));
  const t0 = performance.now();
  for (let sent = 0; sent < total; sent += chunk.length) {
    if (!client.write(chunk)) await new Promise<void>((r) => client.once("drain", () => r()));
  }
  await finished;
  const mbps = totalMiB / ((performance.now() - t0) / 1000);
  client.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return mbps;
}

/** Debian's iperf3, one stream over 127.0.0.1 for `seconds`: received MB/s (10^6 bytes), or null without iperf3. */
export async function measureIperf3(seconds = 3): Promise<number | null> {
  const port = await freePort();
  const server = spawn("iperf3", ["-s", "-1", "-p", String(port)], { stdio: "ignore" });
  const failed = new Promise<null>((r) => server.once("error", () => r(null)));
  try {
    await new Promise((r) => setTimeout(r, 300)); // the server listens
    const client = spawnSync("iperf3", ["-c", "127.0.0.1", "-p", String(port), "-t", String(seconds), "-J"], {
      encoding: "utf8",
      timeout: (seconds + 30) * 1000,
    });
    if (client.status !== 0) return await Promise.race([failed, Promise.resolve(null)]);
    const report = JSON.parse(client.stdout) as { end?: { sum_received?: { bits_per_second?: number } } };
    const bps = report.end?.sum_received?.bits_per_second;
    return bps === undefined ? null : bps / 8 / 1e6;
  } finally {
    if (server.exitCode === null) server.kill("SIGTERM");
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
