#!/usr/bin/env bash
# Conformance with Debian's amqp-tools (rabbitmq-c): declare, publish, get, consume, delete against PORT.
# Prints "N passed, N failed" and exits non-zero when any check fails.
set -u
PORT="${1:-5672}"
URL="amqp://guest:guest@127.0.0.1:${PORT}"
Q="tools-$$-$RANDOM"
pass=0
fail=0

check() { # name, expected, actual
  if [ "$2" == "$3" ]; then
    pass=$((pass + 1)); echo "ok   $1"
  else
    fail=$((fail + 1)); echo "FAIL $1"; echo "     expected: $2"; echo "     actual:   $3"
  fi
}

check "amqp-declare-queue prints the queue name" "$Q" "$(amqp-declare-queue --url "$URL" -d -q "$Q" 2>&1)"
amqp-publish --url "$URL" -r "$Q" -p -C text/plain -b "first" 2>&1
amqp-publish --url "$URL" -r "$Q" -p -b "second" 2>&1
amqp-publish --url "$URL" -r "$Q" -b "third" 2>&1
check "amqp-get returns the oldest message" "first" "$(amqp-get --url "$URL" -q "$Q" 2>&1)"
check "amqp-consume -c 1 runs the command on one message" "second" \
  "$(timeout 10 amqp-consume --url "$URL" -q "$Q" -c 1 cat 2>&1)"
check "amqp-consume delivers the next message" "third" \
  "$(timeout 10 amqp-consume --url "$URL" -q "$Q" -c 1 cat 2>&1)"
out="$(amqp-get --url "$URL" -q "$Q" 2>&1)"; code=$?
check "amqp-get on an empty queue fails" "1" "$([ $code -ne 0 ] && echo 1 || echo 0)"
amqp-consume --url "$URL" -q "$Q-b" -e amq.topic -r "a.*" -c 1 cat >/tmp/amqp-tools-$$ 2>&1 &
cpid=$!
sleep 1
amqp-publish --url "$URL" -e amq.topic -r "a.c" -b "bound-msg" 2>&1
wait $cpid
check "amqp-consume -e -r binds the queue to an exchange" "bound-msg" "$(cat /tmp/amqp-tools-$$)"
rm -f /tmp/amqp-tools-$$
check "amqp-delete-queue succeeds" "0" "$(amqp-delete-queue --url "$URL" -q "$Q" >/dev/null 2>&1; echo $?)"
out="$(amqp-get --url "$URL" -q "$Q" 2>&1)"
check "a deleted queue answers 404" "1" "$(echo "$out" | grep -c 404)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
