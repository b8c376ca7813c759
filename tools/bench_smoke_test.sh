#!/usr/bin/env bash
# Runs //tools:bench with tiny durations and checks that it prints every row
# of the README's table with a number. Speed is not asserted: this machine's
# load decides that.
set -euo pipefail
bench="$TEST_SRCDIR/$TEST_WORKSPACE/tools/bench"
out="$TEST_TMPDIR/table.md"
status=0
"$bench" --seconds=0.3 --latency_seconds=0.5 --latency_rate=2000 \
  --overload_seconds=0.5 >"$out" || status=$?
cat "$out"
expect() {
  # A table row starting with the label whose result column has a digit.
  if ! grep -E "^\| $1[^|]* \| [^|]*[0-9]" "$out" >/dev/null; then
    echo "missing or without a number: $1"
    status=1
  fi
}
expect "raw libzmq PUSH→PULL, [0-9]+ B frames \(1-message"
expect "router, 1 message per packet"
expect "raw libzmq PUSH→PULL, [0-9]+ B frames \(100-message"
expect "router, 100 messages per packet"
expect "client Incr\(\), per call"
expect "client Incr\(\), sustained"
expect "blocking sendto\(\) of a statsd line, per call"
expect "blocking sendto\(\) of a statsd line, sustained"
expect "latency client → router → file at [0-9]+ msg/s, client linger_ms 0"
expect "latency client → router → file at [0-9]+ msg/s, defaults"
expect "router RSS, idle"
expect "router RSS, overload"
expect "router, 1 null sink "
expect "router, 10 null sinks "
expect "router, 100 null sinks "
if grep -q FAILED "$out"; then
  echo "a row failed"
  status=1
fi
exit "$status"
