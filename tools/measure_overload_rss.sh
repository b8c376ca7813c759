#!/usr/bin/env bash
# Router memory under overload: one sink whose back end is down (carbon on a
# closed port, so every batch fails and is retried), a queue bounded at
# 16 MiB of wire bytes, and several million messages sent at it. Prints the
# router's RSS at idle, after each round of sending, and its sink stats.
# Usage: tools/measure_overload_rss.sh [rounds, default 4]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-4}
bazel build -c opt //router //tools:metlog_send //tools:metlogctl >/dev/null 2>&1
bin="$PWD/bazel-bin"
scratch=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$scratch"' EXIT
cat >"$scratch/overload.textproto" <<'EOF'
inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" } } }
admin { listen_address: "127.0.0.1:0" }
stats_interval_ms: 0
sinks {
  name: "down"
  match: "TRUE"
  queue { capacity_bytes: 16777216 capacity_messages: 100000000 overflow: DROP_NEWEST }
  options { [type.googleapis.com/metlog.sinks.CarbonOptions] { address: "127.0.0.1:1" } }
}
EOF
(cd "$scratch" && exec "$bin/router/router" --config=overload.textproto >router.log 2>&1) &
pid=$!
for _ in $(seq 50); do
  grep -q "admin listening" "$scratch/router.log" 2>/dev/null && break
  sleep 0.1
done
endpoint=$(sed -n 's/.*input zmq \(tcp:[^ ]*\) listening.*/\1/p' "$scratch/router.log")
admin_port=$(sed -n 's/.*admin listening on port \([0-9]*\).*/\1/p' "$scratch/router.log")
rss() { awk '/VmRSS/ {print $2 / 1024 " MiB"}' "/proc/$pid/status"; }
echo "idle: $(rss)"
for round in $(seq "$rounds"); do
  "$bin/tools/metlog_send" --endpoint="$endpoint" --type=counter --payload=1 \
    --count=2000000 || true  # the client drops what it cannot send, and says so
  echo "after round $round: $(rss)"
done
"$bin/tools/metlogctl" --admin="127.0.0.1:$admin_port" stats
