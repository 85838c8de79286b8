#!/usr/bin/python3
# Conformance with Debian's python3-pika: scripted checks against a broker at 127.0.0.1:PORT.
# Prints "N passed, N failed" and exits non-zero when any check fails.
import sys
import time
import uuid

import pika
import pika.exceptions

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 5672
RUN = uuid.uuid4().hex[:8]
results = []


def check(name):
    def wrap(fn):
        try:
            fn()
            results.append((name, None))
        except Exception as e:  # noqa: BLE001 - report every failure
            results.append((name, repr(e)))
        return fn
    return wrap


def connect():
    params = pika.ConnectionParameters(host="127.0.0.1", port=PORT, heartbeat=30,
                                       credentials=pika.PlainCredentials("guest", "guest"))
    return pika.BlockingConnection(params)


@check("connect, declare, publish, get with properties")
def _():
    with connect() as c:
        ch = c.channel()
        q = ch.queue_declare(queue="", exclusive=True).method.queue
        props = pika.BasicProperties(content_type="text/plain", delivery_mode=2, headers={"k": "v", "n": 7},
                                     correlation_id="c1", message_id="m1", priority=1)
        ch.basic_publish(exchange="", routing_key=q, body=b"hello", properties=props)
        method, got, body = ch.basic_get(q, auto_ack=True)
        assert body == b"hello", body
        assert got.content_type == "text/plain" and got.delivery_mode == 2
        assert got.headers == {"k": "v", "n": 7}, got.headers
        assert got.correlation_id == "c1" and got.message_id == "m1" and got.priority == 1
        assert method.message_count == 0


@check("basic_get on an empty queue returns nothing")
def _():
    with connect() as c:
        ch = c.channel()
        q = ch.queue_declare(queue="", exclusive=True).method.queue
        assert ch.basic_get(q) == (None, None, None)


@check("consume, nack with requeue, redelivered")
def _():
    with connect() as c:
        ch = c.channel()
        q = ch.queue_declare(queue="", exclusive=True).method.queue
        ch.basic_publish("", q, b"one")
        seen = []
        for method, _props, body in ch.consume(q, inactivity_timeout=2):
            if method is None:
                break
            seen.append((body, method.redelivered))
            if len(seen) == 1:
                ch.basic_nack(method.delivery_tag, requeue=True)
            else:
                ch.basic_ack(method.delivery_tag)
                break
        ch.cancel()
        assert seen == [(b"one", False), (b"one", True)], seen


@check("publisher confirms and an unroutable mandatory message")
def _():
    with connect() as c:
        ch = c.channel()
        ch.confirm_delivery()
        q = ch.queue_declare(queue="", exclusive=True).method.queue
        ch.basic_publish("", q, b"confirmed", mandatory=True)
        try:
            ch.basic_publish("", "nowhere-" + RUN, b"lost", mandatory=True)
            raise AssertionError("expected UnroutableError")
        except pika.exceptions.UnroutableError:
            pass
        assert ch.queue_declare(queue=q, passive=True).method.message_count == 1


@check("topic exchange binding")
def _():
    with connect() as c:
        ch = c.channel()
        x = "pika-topic-" + RUN
        ch.exchange_declare(x, exchange_type="topic", auto_delete=False)
        q = ch.queue_declare(queue="", exclusive=True).method.queue
        ch.queue_bind(q, x, routing_key="logs.*.error")
        for rk in ["logs.app.error", "logs.app.info", "logs.error"]:
            ch.basic_publish(x, rk, rk.encode())
        got = []
        while True:
            m, _p, body = ch.basic_get(q, auto_ack=True)
            if m is None:
                break
            got.append(body)
        ch.exchange_delete(x)
        assert got == [b"logs.app.error"], got


@check("passive declare of a missing queue closes the channel with 404")
def _():
    with connect() as c:
        ch = c.channel()
        try:
            ch.queue_declare(queue="missing-" + RUN, passive=True)
            raise AssertionError("expected ChannelClosedByBroker")
        except pika.exceptions.ChannelClosedByBroker as e:
            assert e.reply_code == 404, e
        assert c.channel().is_open


@check("redeclare with other arguments is 406")
def _():
    with connect() as c:
        ch = c.channel()
        q = "pika-redeclare-" + RUN
        ch.queue_declare(queue=q, exclusive=True)
        try:
            ch.queue_declare(queue=q, exclusive=True, arguments={"x-max-length": 3})
            raise AssertionError("expected ChannelClosedByBroker")
        except pika.exceptions.ChannelClosedByBroker as e:
            assert e.reply_code == 406, e


@check("prefetch 1 delivers one at a time")
def _():
    with connect() as c:
        ch = c.channel()
        q = ch.queue_declare(queue="", exclusive=True).method.queue
        for i in range(3):
            ch.basic_publish("", q, str(i).encode())
        ch.basic_qos(prefetch_count=1)
        got = []
        ch.basic_consume(q, lambda _ch, m, _p, b: got.append((m.delivery_tag, b)))
        c.process_data_events(time_limit=0.5)
        assert len(got) == 1, got
        ch.basic_ack(got[0][0])
        c.process_data_events(time_limit=0.5)
        assert [b for _t, b in got] == [b"0", b"1"], got


@check("wrong password is refused")
def _():
    params = pika.ConnectionParameters(host="127.0.0.1", port=PORT,
                                       credentials=pika.PlainCredentials("guest", "wrong"))
    try:
        pika.BlockingConnection(params)
        raise AssertionError("expected ProbableAuthenticationError")
    except (pika.exceptions.ProbableAuthenticationError, pika.exceptions.AuthenticationError):
        pass


@check("durable queue delete reports its message count")
def _():
    with connect() as c:
        ch = c.channel()
        q = "pika-durable-" + RUN
        ch.queue_declare(queue=q, durable=True)
        for i in range(4):
            ch.basic_publish("", q, b"x", properties=pika.BasicProperties(delivery_mode=2))
        time.sleep(0.2)
        assert ch.queue_delete(q).method.message_count == 4


failed = [(n, e) for n, e in results if e is not None]
for name, err in results:
    print(("ok   " if err is None else "FAIL ") + name + ("" if err is None else "\n     " + err))
print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
