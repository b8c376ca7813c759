#!/usr/bin/env bash
# Starts the router on its embedded default config in a scratch directory,
# waits, and prints its resident memory. Usage: tools/measure_idle_rss.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bazel build -c opt //router >/dev/null 2>&1
binary="$PWD/bazel-bin/router/router"
scratch=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$scratch"' EXIT
(cd "$scratch" && exec "$binary" >/dev/null 2>&1) &
pid=$!
sleep 3
grep VmRSS "/proc/$pid/status"
