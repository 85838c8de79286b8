#!/usr/bin/env bash
# kcat (librdkafka) against Spindle: metadata, produce with each -z codec, consume with -o
# beginning|end|N|s@ts, and a -G balanced consumer group that resumes from its committed offsets.
# Usage: kcat.sh HOST:PORT. Prints "N passed, N failed"; exits non-zero when any check failed.
set -uo pipefail
B="$1"
pass=0
fail=0
RUN="$(date +%s%N)"
check() { # name, expected, actual
  if [[ "$2" == "$3" ]]; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1: expected [$2] got [$3]"; fi
}
consume() { timeout 30 kcat -b "$B" -C -e -q "$@" 2>/dev/null; }

meta="$(timeout 20 kcat -b "$B" -L 2>&1)"
check "metadata lists the broker" "1" "$(grep -c "broker 0 at $B" <<<"$meta")"

for z in none gzip snappy lz4 zstd; do
  t="z-$z-$RUN"
  seq 1 100 | sed "s/^/$z-/" | timeout 20 kcat -b "$B" -P -t "$t" -z "$z" 2>/dev/null
  got="$(consume -t "$t" -o beginning | tr '\n' ' ')"
  check "produce -z $z then consume" "$(seq 1 100 | sed "s/^/$z-/" | tr '\n' ' ')" "$got"
done

t="offsets-$RUN"
seq 0 9 | timeout 20 kcat -b "$B" -P -t "$t" 2>/dev/null
check "-o beginning" "0 1 2 3 4 5 6 7 8 9 " "$(consume -t "$t" -o beginning | tr '\n' ' ')"
check "-o 7" "7 8 9 " "$(consume -t "$t" -o 7 | tr '\n' ' ')"
check "-o -3 (relative to end)" "7 8 9 " "$(consume -t "$t" -o -3 | tr '\n' ' ')"
check "-o end" "" "$(consume -t "$t" -o end | tr '\n' ' ')"

t="stamps-$RUN"
now=$(($(date +%s) * 1000))
for i in 0 1 2 3 4; do
  echo "s$i" | timeout 20 kcat -b "$B" -P -t "$t" -X "message.timeout.ms=5000" 2>/dev/null
  sleep 0.05
done
mid="$(consume -t "$t" -o beginning -f '%T %s\n' | sed -n 3p | cut -d' ' -f1)"
check "-o s@ts starts at the first record at or after ts" "s2 s3 s4 " "$(consume -t "$t" -o "s@$mid" | tr '\n' ' ')"

t="group-$RUN"
seq 1 20 | timeout 20 kcat -b "$B" -P -t "$t" 2>/dev/null
g="g-$RUN"
first="$(timeout 30 kcat -b "$B" -G "$g" -X auto.offset.reset=earliest -e -q "$t" 2>/dev/null | wc -l)"
check "-G reads everything on first join" "20" "$first"
seq 21 25 | timeout 20 kcat -b "$B" -P -t "$t" 2>/dev/null
second="$(timeout 30 kcat -b "$B" -G "$g" -X auto.offset.reset=earliest -e -q "$t" 2>/dev/null | tr '\n' ' ')"
check "-G resumes after committed offsets" "21 22 23 24 25 " "$second"
coop="$(timeout 30 kcat -b "$B" -G "coop-$RUN" -X partition.assignment.strategy=cooperative-sticky -X auto.offset.reset=earliest -e -q "$t" 2>/dev/null | wc -l)"
check "-G with cooperative-sticky" "25" "$coop"

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
