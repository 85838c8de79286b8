#!/usr/bin/env bash
# Packs @spindle/broker and @spindle/protocol, installs both tarballs into an empty directory and starts
# `npx spindle start` from there: the published shape must run without the repository or tsx.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
pid=""
# npx runs spindle as a child: the broker gets its own process group, and the group is ended.
trap '[ -n "$pid" ] && kill -- "-$pid" 2>/dev/null; rm -rf "$work"' EXIT

(cd "$repo/packages/protocol" && npm pack --silent --pack-destination "$work" >/dev/null)
(cd "$repo/packages/broker" && npm pack --silent --pack-destination "$work" >/dev/null)
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent ./spindle-broker-*.tgz ./spindle-protocol-*.tgz
if [ -e node_modules/tsx ]; then echo "pack-install: tsx was installed with the packages" >&2; exit 1; fi

setsid npx spindle start --data-dir "$work/data" --amqp-port 0 --kafka-port 0 --http-port 0 >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 1 100); do
  if grep -q '^spindle ready' "$work/out"; then
    http=$(sed -n 's/.*http=\([^ ]*\).*/\1/p' "$work/out")
    curl -fsS "http://$http/healthz" >/dev/null
    # the web console ships inside the broker package: its page and the script that page loads
    js=$(curl -fsS "http://$http/" | sed -n 's/.*src="\.\/\(assets\/[^"]*\.js\)".*/\1/p')
    if [ -z "$js" ]; then echo "pack-install: / did not serve the console's index.html" >&2; exit 1; fi
    got=$(curl -fsS -o /dev/null -w '%{size_download} %{content_type}' "http://$http/$js")
    case "$got" in
      [1-9]*" text/javascript"*) ;;
      *) echo "pack-install: $js answered '$got', not a script" >&2; exit 1 ;;
    esac
    echo "pack-install: console $js ($got)"
    echo "pack-install: $(head -1 "$work/out")"
    exit 0
  fi
  sleep 0.1
done
echo "pack-install: spindle did not start from the packed packages" >&2
cat "$work/err" >&2
exit 1
