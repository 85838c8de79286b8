#!/usr/bin/env python3
# The librdkafka side of the crash test: produce N records with acks=all while the broker is killed
# and restarted; write "partition offset value" for every acknowledged record, then (mode verify)
# read the topic back and check each acknowledged record is at its acknowledged place.
# Usage: crash_producer.py produce HOST:PORT TOPIC N OUTFILE | verify HOST:PORT TOPIC OUTFILE
import os, sys, time
from confluent_kafka import Consumer, Producer, TopicPartition

mode, broker, topic = sys.argv[1], sys.argv[2], sys.argv[3]

if mode == "produce":
    n, out = int(sys.argv[4]), open(sys.argv[5], "w")
    idempotent = os.environ.get("CRASH_IDEMPOTENT") == "1"
    p = Producer({"bootstrap.servers": broker, "acks": "all", "message.timeout.ms": 120000,
                  "linger.ms": 5, "reconnect.backoff.max.ms": 200, "retry.backoff.ms": 100,
                  "enable.idempotence": idempotent})
    errors = 0

    def done(err, msg):
        global errors
        if err is None:
            out.write(f"{msg.partition()} {msg.offset()} {msg.value().decode()}\n")
        else:
            errors += 1

    for i in range(n):
        while True:
            try:
                p.produce(topic, value=f"m{i}", on_delivery=done)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
        if i % 50 == 0:
            time.sleep(0.01)
    p.flush(150)
    out.close()
    print(f"produced {n}, delivery errors {errors}")
    sys.exit(0)

acked = [line.split() for line in open(sys.argv[4]) if line.strip()]
want = {}
for part, off, val in acked:
    want[(int(part), int(off))] = val
c = Consumer({"bootstrap.servers": broker, "group.id": "crash-verify", "enable.auto.commit": False})
parts = {p for p, _ in want}
have = {}
for part in parts:
    lo, hi = c.get_watermark_offsets(TopicPartition(topic, part), timeout=10)
    c.assign([TopicPartition(topic, part, lo)])
    deadline = time.time() + 60
    last = lo - 1
    while last < hi - 1 and time.time() < deadline:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        have[(part, m.offset())] = m.value().decode()
        last = m.offset()
c.close()
bad = [(k, v, have.get(k)) for k, v in want.items() if have.get(k) != v]
if os.environ.get("CRASH_IDEMPOTENT") == "1":
    # With idempotence on, each value must also appear exactly once in the log.
    counts = {}
    for v in have.values():
        counts[v] = counts.get(v, 0) + 1
    dups = [v for v, c in counts.items() if c > 1]
    print(f"# duplicates in the log: {len(dups)}")
    bad += [(None, v, "duplicate") for v in dups]
ok = len(want) - len(bad)
for k, v, h in bad[:10]:
    print(f"FAIL acknowledged {v} at {k}, found {h}")
print(f"{ok} passed, {len(bad)} failed")
sys.exit(1 if bad or not want else 0)
