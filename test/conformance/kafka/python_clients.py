#!/usr/bin/env python3
# python3-kafka (kafka-python) and python3-confluent-kafka against Spindle: produce, consumer group,
# commit, seek, admin. Usage: python_clients.py HOST:PORT [kafka-python|confluent|both]
# Prints "N passed, N failed" and exits non-zero when any check failed.
import sys, time, uuid

BROKER = sys.argv[1]
WHICH = sys.argv[2] if len(sys.argv) > 2 else "both"
RUN = uuid.uuid4().hex[:8]
passed = failed = 0


def check(name, expected, actual):
    global passed, failed
    if expected == actual:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}: expected {expected!r} got {actual!r}")


def guard(name, fn):
    global failed
    try:
        fn()
    except Exception as e:  # a crash in one scenario is one failure, the others still run
        failed += 1
        print(f"FAIL {name}: {type(e).__name__}: {e}")


def kafka_python():
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import NewTopic

    topic = f"kp-{RUN}"
    admin = KafkaAdminClient(bootstrap_servers=BROKER)
    admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
    check("kafka-python: topic created with 2 partitions", {0, 1}, set(KafkaConsumer(bootstrap_servers=BROKER).partitions_for_topic(topic) or []))
    producer = KafkaProducer(bootstrap_servers=BROKER, acks="all")
    metas = [producer.send(topic, key=f"k{i % 3}".encode(), value=f"v{i}".encode()).get(10) for i in range(30)]
    producer.flush()
    check("kafka-python: 30 acked sends", 30, len(metas))
    group = f"kp-g-{RUN}"
    c = KafkaConsumer(topic, bootstrap_servers=BROKER, group_id=group, auto_offset_reset="earliest",
                      enable_auto_commit=False, consumer_timeout_ms=5000)
    got = [m for m in c]
    check("kafka-python: group consumer reads all", 30, len(got))
    by_key = {}
    for m in got:
        by_key.setdefault(m.key, []).append(int(m.value[1:]))
    check("kafka-python: per-key order", True, all(v == sorted(v) for v in by_key.values()))
    c.commit()
    committed = sum(c.committed(TopicPartition(topic, p)) or 0 for p in (0, 1))
    check("kafka-python: committed offsets sum to 30", 30, committed)
    c.close()
    s = KafkaConsumer(bootstrap_servers=BROKER, consumer_timeout_ms=3000)
    ends = s.end_offsets([TopicPartition(topic, p) for p in (0, 1)])
    check("kafka-python: end offsets sum to 30", 30, sum(ends.values()))
    tp = max(ends, key=lambda t: ends[t])
    s.assign([tp])
    s.seek(tp, 1)
    first = next(iter(s))
    check("kafka-python: seek to offset 1", 1, first.offset)
    s.close()
    c2 = KafkaConsumer(topic, bootstrap_servers=BROKER, group_id=group, auto_offset_reset="earliest", consumer_timeout_ms=3000)
    check("kafka-python: rejoin resumes after commit", 0, len([m for m in c2]))
    c2.close()
    admin.close()


def confluent():
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic

    topic = f"ck-{RUN}"
    admin = AdminClient({"bootstrap.servers": BROKER})
    for f in admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)]).values():
        f.result(10)
    md = admin.list_topics(topic, timeout=10)
    check("confluent: topic has 3 partitions", 3, len(md.topics[topic].partitions))
    acked = []
    p = Producer({"bootstrap.servers": BROKER, "acks": "all", "enable.idempotence": True, "compression.type": "zstd"})
    for i in range(60):
        p.produce(topic, key=f"k{i % 4}", value=f"v{i}", on_delivery=lambda err, msg: acked.append(err))
    p.flush(15)
    check("confluent: 60 idempotent zstd deliveries without error", [None] * 60, acked)
    group = f"ck-g-{RUN}"
    conf = {"bootstrap.servers": BROKER, "group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False}
    c = Consumer(conf)
    c.subscribe([topic])
    got = []
    deadline = time.time() + 20
    while len(got) < 60 and time.time() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            got.append(m)
    check("confluent: group consumer reads all", 60, len(got))
    c.commit(asynchronous=False)
    parts = c.committed([TopicPartition(topic, i) for i in range(3)], timeout=10)
    check("confluent: committed offsets sum to 60", 60, sum(tp.offset for tp in parts))
    c.close()
    s = Consumer({**conf, "group.id": f"seek-{RUN}"})
    s.assign([TopicPartition(topic, 0, 2)])
    m = None
    deadline = time.time() + 10
    while m is None and time.time() < deadline:
        m = s.poll(0.5)
    check("confluent: assign at offset 2", 2, m.offset() if m else None)
    lo, hi = s.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
    check("confluent: low watermark", 0, lo)
    ts = m.timestamp()[1] if m else 0
    found = s.offsets_for_times([TopicPartition(topic, 0, ts)], timeout=10)
    check("confluent: offsets_for_times finds a record at or before offset 2", True, 0 <= found[0].offset <= 2)
    s.close()
    groups = admin.list_groups(timeout=10)
    check("confluent: list_groups includes the group", True, any(g.id == group for g in groups))


def confluent_group_of_three(strategy):
    import threading
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    topic = f"trio-{strategy}-{RUN}"
    admin = AdminClient({"bootstrap.servers": BROKER})
    for f in admin.create_topics([NewTopic(topic, num_partitions=6, replication_factor=1)]).values():
        f.result(10)
    p = Producer({"bootstrap.servers": BROKER, "acks": "all"})
    for i in range(300):
        p.produce(topic, key=f"k{i}", value=f"{i}")
    p.flush(15)
    group = f"trio-{strategy}-{RUN}"
    seen, assigned, lock, stop = [], {}, threading.Lock(), threading.Event()

    def member(name):
        c = Consumer({"bootstrap.servers": BROKER, "group.id": group, "auto.offset.reset": "earliest",
                      "partition.assignment.strategy": strategy, "session.timeout.ms": 10000,
                      "heartbeat.interval.ms": 500})
        c.subscribe([topic])
        while not stop.is_set():
            m = c.poll(0.2)
            with lock:
                assigned[name] = sorted(tp.partition for tp in c.assignment())
            if m is not None and m.error() is None:
                with lock:
                    seen.append(int(m.value()))
        c.close()

    threads = [threading.Thread(target=member, args=(n,)) for n in ("a", "b", "c")]
    for t in threads:
        t.start()
    deadline = time.time() + 40
    while time.time() < deadline:
        with lock:
            spread = len(assigned) == 3 and sorted(len(v) for v in assigned.values()) == [2, 2, 2]
            if spread and len(set(seen)) >= 300:
                break
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join()
    check(f"confluent {strategy}: three members get two partitions each", [2, 2, 2], sorted(len(v) for v in assigned.values()))
    check(f"confluent {strategy}: every record consumed", 300, len(set(seen)))


if WHICH in ("kafka-python", "both"):
    guard("kafka-python", kafka_python)
if WHICH in ("confluent", "both"):
    guard("confluent", confluent)
    for strategy in ("range", "roundrobin", "cooperative-sticky"):
        guard(f"confluent {strategy}", lambda: confluent_group_of_three(strategy))
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
