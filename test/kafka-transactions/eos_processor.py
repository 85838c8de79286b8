# Exactly-once consume-transform-produce with librdkafka (Debian's python3-confluent-kafka), as the book's
# example runs it: init_transactions, then per batch begin_transaction, produce the results,
# send_offsets_to_transaction, commit_transaction; consumers read with isolation.level=read_committed.
#
#   eos_processor.py process BOOTSTRAP IN OUT GROUP TRANSACTIONAL_ID [IDLE_S]   exits 0 after IDLE_S
#                                             (default 4) seconds without input, 2 when fenced or on a fatal error
#   eos_processor.py read BOOTSTRAP TOPIC PARTITIONS                 prints the read_committed values as JSON
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

IDLE_EXIT_S = 4.0


def log(*a):
    print("[eos]", *a, file=sys.stderr, flush=True)


def rewind(consumer):
    """After an abort, go back to the committed offsets: the aborted batch is processed again."""
    assigned = consumer.assignment()
    if not assigned:
        return
    for tp in consumer.committed(assigned, timeout=30):
        consumer.seek(TopicPartition(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else 0))


def process(bootstrap, src, dst, group, txid, idle_s=IDLE_EXIT_S):
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        "session.timeout.ms": 6000,
    })
    producer = Producer({
        "bootstrap.servers": bootstrap,
        "transactional.id": txid,
        "transaction.timeout.ms": 10000,
    })
    try:
        producer.init_transactions(60)
        consumer.subscribe([src])
        idle_since = time.time()
        while time.time() - idle_since < float(idle_s):
            msgs = [m for m in consumer.consume(50, 0.5) if m.error() is None]
            if not msgs:
                continue
            idle_since = time.time()
            try:
                producer.begin_transaction()
                for m in msgs:
                    producer.produce(dst, key=m.key(), value=b"out-" + m.value())
                positions = [tp for tp in consumer.position(consumer.assignment()) if tp.offset >= 0]
                producer.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(), 30)
                producer.commit_transaction(30)
            except KafkaException as e:
                err = e.args[0]
                if err.txn_requires_abort():
                    log("aborting:", err)
                    producer.abort_transaction(30)
                    rewind(consumer)
                else:
                    raise
        return 0
    except KafkaException as e:
        log("giving up:", e.args[0])
        return 2
    finally:
        consumer.close()


def read(bootstrap, topic, partitions):
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "eos-reader",
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
    })
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    values = []
    idle_since = time.time()
    while time.time() - idle_since < 3.0:
        for m in consumer.consume(500, 0.5):
            if m.error() is None:
                values.append(m.value().decode())
                idle_since = time.time()
    consumer.close()
    print(json.dumps(values))
    return 0


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "process":
        sys.exit(process(*sys.argv[2:8]))
    sys.exit(read(sys.argv[2], sys.argv[3], int(sys.argv[4])))
