#!/usr/bin/env bash
# Runs tools/demo/run_local.sh on free ports and checks that the demo's data
# reached every back end: Prometheus answers a query for the demo's series,
# the router's carbon sink and statsd's flushes wrote whisper points, the
# JSON-lines archive holds the demo's logs and exceptions, statsd's
# management port lists its counters. Then SIGTERM must render the
# dashboard and stop every process the script started.
set -euo pipefail
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
data="$TEST_TMPDIR/demo"
log="$TEST_TMPDIR/run_local.log"
fail() {
  echo "FAIL: $*" >&2
  echo "--- run_local.sh output:" >&2; cat "$log" >&2
  for f in "$data"/logs/*.log; do echo "--- $f (tail):" >&2; tail -5 "$f" >&2; done
  exit 1
}

# --duration bounds the run should the test die before its SIGTERM.
tools/demo/run_local --duration 300 --rate 40 --free-ports --bin-dir "$PWD" \
  --data-dir "$data" >"$log" 2>&1 &
runner=$!
cleanup() {
  set +e
  kill -TERM "$runner" 2>/dev/null
  wait "$runner" 2>/dev/null
}
trap cleanup EXIT

deadline=$(( $(date +%s) + 90 ))
until [ -f "$data/ports.env" ]; do
  kill -0 "$runner" 2>/dev/null || fail "run_local.sh exited before starting everything"
  [ "$(date +%s)" -lt "$deadline" ] || fail "run_local.sh did not start within 90 s"
  sleep 0.5
done
source "$data/ports.env"

prometheus_has_series() {
  /usr/bin/python3 - "$PROMETHEUS_PORT" <<'PY'
import json, sys, urllib.parse, urllib.request
# The C++, Python and Node.js demo services, each with its labels.
query = urllib.parse.quote('count by (logger) (requests_total{endpoint="home",status="200"} > 0)')
url = f"http://127.0.0.1:{sys.argv[1]}/api/v1/query?query={query}"
result = json.load(urllib.request.urlopen(url, timeout=5))["data"]["result"]
loggers = {series["metric"].get("logger") for series in result}
sys.exit(0 if loggers >= {"demo_app", "demo_py", "demo_node"} else 1)
PY
}
whisper_has_points() {
  local file="$data/carbon/storage/whisper/$1.wsp"
  [ -f "$file" ] && whisper-fetch --from=$(( $(date +%s) - 600 )) "$file" |
    awk '$2 != "None" && $2 > 0 { found = 1 } END { exit !found }'
}
archive_has_demo() {
  # protobuf's JSON printer writes fields in field-number order.
  grep -q '"type":"exception","logger":"demo_app"' "$data/metlog.jsonl" &&
    grep -q '"type":"oldstyle","logger":"demo_py"' "$data/metlog.jsonl" &&
    grep -q '"type":"log","logger":"demo_node"' "$data/metlog.jsonl" &&
    grep -q '"type":"log","logger":"demo_app","severity":3,' "$data/metlog.jsonl"
}
statsd_has_counters() {
  local answer  # read whole: grep -q in a pipe would fail it under pipefail
  answer="$(printf 'counters\n' | nc -q 1 -w 5 127.0.0.1 "$STATSD_MGMT_PORT")"
  [[ "$answer" == *"'demo_app.requests'"* ]]
}

checks=(prometheus_has_series "whisper_has_points metlog/demo_app/requests"
        "whisper_has_points stats_counts/demo_app/requests" archive_has_demo
        statsd_has_counters)
deadline=$(( $(date +%s) + 90 ))
for check in "${checks[@]}"; do
  until $check 2>/dev/null; do
    kill -0 "$runner" 2>/dev/null || fail "run_local.sh exited during the run"
    [ "$(date +%s)" -lt "$deadline" ] || fail "no data: $check"
    sleep 1
  done
  echo "ok: $check"
done

kill -TERM "$runner"
status=0
wait "$runner" || status=$?
trap - EXIT
[ "$status" -eq 0 ] || fail "run_local.sh exited $status after SIGTERM"
[ "$(head -c 8 "$data/dashboard.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
  fail "no dashboard PNG"
grep -q "dashboard: $data/dashboard.png" "$log" || fail "the dashboard path was not printed"
for pid in $(grep '^PID_' "$data/ports.env" | cut -d= -f2); do
  kill -0 "$pid" 2>/dev/null && fail "process $pid still runs after SIGTERM"
done
echo PASS
