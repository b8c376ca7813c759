#!/usr/bin/env bash
# Builds every libFuzzer target (cc_binary rules named *_fuzzer) with
# --config=fuzz and runs each for a bounded time on a copy of its committed
# seed corpus (<package>/testdata/<target>_corpus/). Exits non-zero if a
# target fails to build or finds a crash, leak or sanitizer report.
# Usage: tools/run_fuzzers.sh [SECONDS_PER_TARGET] (default 30)
set -uo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"

mapfile -t targets < <(bazel query 'attr(name, "_fuzzer$", kind(cc_binary, //...))' 2>/dev/null)
if [ ${#targets[@]} -eq 0 ]; then
  echo "run_fuzzers: no *_fuzzer targets"
  exit 0
fi
bazel build --config=fuzz "${targets[@]}" || exit 1
bin_dir=$(bazel info --config=fuzz bazel-bin)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
for target in "${targets[@]}"; do
  package=${target#//}; package=${package%%:*}
  name=${target##*:}
  corpus="$work/$name"
  mkdir -p "$corpus"
  if [ -d "$package/testdata/${name}_corpus" ]; then
    cp -r "$package/testdata/${name}_corpus/." "$corpus/"
  fi
  dict=()
  if [ -f "$package/testdata/$name.dict" ]; then
    dict=("-dict=$package/testdata/$name.dict")
  fi
  echo "run_fuzzers: $target for ${seconds}s"
  if ! "$bin_dir/$package/$name" "${dict[@]}" -max_total_time="$seconds" \
      -print_final_stats=1 -artifact_prefix="$work/$name-" "$corpus" \
      >"$work/$name.log" 2>&1; then
    failed=1
    echo "run_fuzzers: $target FOUND A PROBLEM"
    tail -n 60 "$work/$name.log"
    for artifact in "$work/$name"-*; do
      [ -f "$artifact" ] && echo "input (hex): $(head -c 512 "$artifact" | od -An -tx1 | tr -d ' \n')"
    done
  fi
  grep -E '^stat::number_of_executed_units|^#[0-9]+ +DONE' "$work/$name.log" | tail -n 2
done
exit "$failed"
