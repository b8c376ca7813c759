#!/usr/bin/env bash
# Runs one libFuzzer binary for a bounded time on a writable copy of its seed
# corpus. Usage: run_fuzzer.sh FUZZER CORPUS_DIR SECONDS [DICT]
set -euo pipefail
fuzzer="$1" corpus="$2" seconds="$3" dict="${4:-}"
work="${TEST_TMPDIR:-$(mktemp -d)}/corpus"
mkdir -p "$work"
if [ -d "$corpus" ]; then cp -r "$corpus/." "$work/"; fi
args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
      -artifact_prefix="${TEST_UNDECLARED_OUTPUTS_DIR:-$work}/")
if [ -n "$dict" ]; then args+=(-dict="$dict"); fi
exec "$fuzzer" "${args[@]}" "$work"
