// The loopback TCP limit, measured in the same run: one connection streaming 1 MiB writes to a reader
// that discards them (iperf3-style, single stream), in MB/s.

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
