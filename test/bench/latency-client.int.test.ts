// bench:kafka's latency client (bench/kafka-clients.py, python3-confluent-kafka) against a real spindle process:
// its timed producer sends the first timed record at once, even when its connection came up before it knew the
// topic. librdkafka 2.0.2 then leaves the topic to its once-a-second scan of unknown topics; in the bench that
// race was lost in ~1 run of 3 and the first second of records waited behind it (p99 ~910 ms, p50 0.7 ms).
// Invariant: the client is imported as the bench runs it; only librdkafka's own timing is observed.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type SpindleProcess, startSpindle } from "../support/spindle-process.ts";

const CLIENT = fileURLToPath(new URL("../../bench/kafka-clients.py", import.meta.url));

// ready_producer(), then 200 ms for its connection to come up and send its first Metadata request (the race
// lost on purpose), then one record: ms from produce() to its delivery report.
const FIRST_SEND = `
import importlib.util, json, sys, time
spec = importlib.util.spec_from_file_location("kafka_clients", sys.argv[1])
clients = importlib.util.module_from_spec(spec)
spec.loader.exec_module(clients)
p = clients.ready_producer(sys.argv[2], sys.argv[3])
time.sleep(0.2)
done = []
t0 = time.time()
p.produce(sys.argv[3], b"timed", on_delivery=lambda err, msg: done.append((err, time.time())))
while not done:
    p.poll(0.001)
print(json.dumps({"error": str(done[0][0]) if done[0][0] else None, "ms": (done[0][1] - t0) * 1000}))
`;

let spindle: SpindleProcess | undefined;
after(() => spindle?.stop());

test("the latency client's first timed record does not wait for librdkafka's topic scan", async () => {
  const broker = await startSpindle();
  spindle = broker;
  for (const topic of ["latency-a", "latency-b"]) {
    const r = spawnSync("/usr/bin/python3", ["-c", FIRST_SEND, CLIENT, broker.kafka, topic], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const { error, ms } = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as {
      error: string | null;
      ms: number;
    };
    assert.equal(error, null);
    // the scan would hold it ~800 ms (1 s after the producer was made, less the 200 ms waited)
    assert.ok(ms < 500, `the first timed record to ${topic} took ${ms.toFixed(1)} ms to be acknowledged`);
  }
});
