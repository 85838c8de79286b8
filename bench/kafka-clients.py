#!/usr/bin/env python3
# librdkafka (confluent-kafka) load for bench/kafka.ts. Prints one JSON line.
#   produce BROKER TOPIC N SIZE      acks=all, batching on; seconds from first send to last ack
#   consume BROKER TOPIC N           seconds to read N records from the beginning
#   latency BROKER TOPIC RATE SECS   end-to-end latency at a fixed rate (acks=all), p50/p99/max in ms
# Importable (tests use ready_producer); the modes run only as a script.
import json, sys, threading, time
from confluent_kafka import Consumer, Producer, TopicPartition


def produce(broker, topic, n, size):
    value = b"x" * size
    p = Producer({"bootstrap.servers": broker, "acks": "all", "linger.ms": 5, "batch.size": 1000000,
                  "queue.buffering.max.messages": 1000000, "queue.buffering.max.kbytes": 2097151})
    errs = [0]
    def cb(err, msg):
        if err is not None:
            errs[0] += 1
    t0 = time.time()
    for i in range(n):
        while True:
            try:
                p.produce(topic, value, on_delivery=cb)
                break
            except BufferError:
                p.poll(0.01)
        if i % 1000 == 0:
            p.poll(0)
    p.flush(300)
    return {"seconds": time.time() - t0, "errors": errs[0]}


def consume(broker, topic, n):
    c = Consumer({"bootstrap.servers": broker, "group.id": "bench", "enable.auto.commit": False,
                  "fetch.max.bytes": 52428800, "max.partition.fetch.bytes": 10485760, "queued.min.messages": 1000000})
    c.assign([TopicPartition(topic, 0, 0)])
    got = 0
    t0 = time.time()
    while got < n:
        msgs = c.consume(10000, 1.0)
        got += sum(1 for m in msgs if m.error() is None)
    seconds = time.time() - t0
    c.close()
    return {"seconds": seconds}


def ready_producer(broker, topic):
    """The latency run's producer (acks=all, no linger), with `topic`'s metadata known before any send is timed.
    librdkafka (2.0.2 here) asks for a new topic's metadata at once only when the topic is known before the
    connection's first Metadata request goes out; when the connection wins that race (~1 run in 3), the first
    produce() to the topic waits for the once-a-second scan of unknown topics (librdkafka issue #3202), and the
    records of the first second queued behind it: p99 ~910 ms with p50 0.7. One record sent and delivered here,
    before the clock starts, settles it (and creates the topic)."""
    p = Producer({"bootstrap.servers": broker, "acks": "all", "linger.ms": 0})
    p.produce(topic, repr(time.time()).encode())
    if p.flush(30) != 0:
        raise RuntimeError(f"the warm-up record to {topic} was not delivered within 30 s")
    return p


def latency(broker, topic, rate, secs):
    lat = []
    stop = threading.Event()
    # the topic exists (the warm-up record) before the consumer's "latest" is resolved
    p = ready_producer(broker, topic)
    c = Consumer({"bootstrap.servers": broker, "group.id": "bench-lat", "enable.auto.commit": False,
                  "fetch.wait.max.ms": 100, "fetch.min.bytes": 1})
    c.assign([TopicPartition(topic, 0, -1)])
    def receive():
        while not stop.is_set():
            m = c.poll(0.05)
            if m is not None and m.error() is None:
                lat.append((time.time() - float(m.value())) * 1000)
    th = threading.Thread(target=receive)
    th.start()
    time.sleep(2)
    total = int(rate * secs)
    t0 = time.time()
    for i in range(total):
        target = t0 + i / rate
        d = target - time.time()
        if d > 0:
            time.sleep(d)
        p.produce(topic, repr(time.time()).encode())
        p.poll(0)
    p.flush(30)
    time.sleep(1)
    stop.set()
    th.join()
    c.close()
    lat.sort()
    q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] if lat else -1
    return {"count": len(lat), "sent": total, "p50": q(0.5), "p99": q(0.99), "max": lat[-1] if lat else -1}


if __name__ == "__main__":
    mode, broker, topic = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "produce":
        out = produce(broker, topic, int(sys.argv[4]), int(sys.argv[5]))
    elif mode == "consume":
        out = consume(broker, topic, int(sys.argv[4]))
    else:
        out = latency(broker, topic, int(sys.argv[4]), float(sys.argv[5]))
    print(json.dumps(out))
