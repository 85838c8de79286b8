#!/bin/sh
# Runs one test file RUNS times (default 100) and counts the failing runs; a failing run's output is kept
# in OUT (default /tmp/repeat-<pid>) as run-N.txt, and DEBUG_KEEP, if the test takes it, gets a dir per run.
# Usage: test/crash/repeat.sh test/crash/compaction-kill.int.test.ts   (from the repo root, after npm run build)
set -u
FILE=$1
RUNS=${RUNS:-100}
OUT=${OUT:-/tmp/repeat-$$}
mkdir -p "$OUT"
failed=0
i=1
while [ "$i" -le "$RUNS" ]; do
  keep=${DEBUG_KEEP_ROOT:+$DEBUG_KEEP_ROOT/run-$i}
  if DEBUG_KEEP=$keep node --conditions=source --import tsx --test --test-force-exit "$FILE" >"$OUT/run-$i.txt" 2>&1; then
    rm "$OUT/run-$i.txt"
  else
    failed=$((failed + 1))
    echo "run $i failed: $OUT/run-$i.txt"
  fi
  i=$((i + 1))
done
echo "$FILE: $failed of $RUNS runs failed"
[ "$failed" -eq 0 ]
