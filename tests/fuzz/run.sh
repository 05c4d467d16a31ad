#!/usr/bin/env bash
# Builds the fuzz targets with clang 14 in build-fuzz and runs each for SECONDS (default 30), one per core:
#   bash tests/fuzz/run.sh [SECONDS] [TARGET...]      TARGET: onnx_model json_model points_csv points_npy
#                                                             polytope_domain box_parser (default: all)
# Each target starts from its corpus, build-fuzz/fuzz/corpus/TARGET, which keeps what earlier runs found
# and is topped up with the seeds: files from tests/data (and tests/data/bad) and examples, plus the
# hand-made ones in tests/fuzz/seeds/TARGET. An input that crashes, trips a sanitizer, throws anything
# but relutope::InputError, runs longer than 10 s or needs more than 2 GB is a finding: it is saved in
# build-fuzz/fuzz/artifacts/TARGET/ and the script exits 1 once every target has run. Reproduce one with
#   build-fuzz/tests/fuzz/TARGET_fuzzer FILE
# Logs: build-fuzz/fuzz/TARGET.log. docs/fuzzing.md has the figures of the 10-minute runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-30}
shift || true
all=(onnx_model json_model points_csv points_npy polytope_domain box_parser)
targets=("${all[@]}")
if [ $# -gt 0 ]; then targets=("$@"); fi
build=build-fuzz
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DRELUTOPE_BUILD_FUZZERS=ON -DRELUTOPE_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target relutope_fuzzers

# seeds TARGET: the files a target's corpus starts from.
seeds() {
  case "$1" in
    onnx_model) ls tests/data/*.onnx tests/data/bad/*.onnx tests/data/graph/*.onnx tests/data/graph/bad/*.onnx examples/*.onnx ;;
    json_model) ls tests/data/*.json tests/data/bad/*.json ;;
    points_csv) ls examples/*.csv ;;
    points_npy) ls examples/*.npy ;;
  esac
  if [ -d "tests/fuzz/seeds/$1" ]; then find "tests/fuzz/seeds/$1" -type f; fi
}

# fuzz_one TARGET: runs it for $seconds from its corpus; its summary goes to $build/fuzz/TARGET.summary,
# and a finding leaves $build/fuzz/TARGET.failed.
fuzz_one() {
  local target=$1
  local corpus=$build/fuzz/corpus/$target artifacts=$build/fuzz/artifacts/$target log=$build/fuzz/$target.log
  local summary=$build/fuzz/$target.summary
  mkdir -p "$corpus" "$artifacts"
  rm -f "$build/fuzz/$target.failed"
  seeds "$target" | while read -r seed; do cp "$seed" "$corpus/seed-$(basename "$seed")"; done
  local dict=()
  if [ -f "tests/fuzz/$target.dict" ]; then dict=(-dict="tests/fuzz/$target.dict"); fi
  local status=0
  "$build/tests/fuzz/${target}_fuzzer" "$corpus" "${dict[@]}" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1 || status=$?
  {
    echo "fuzz: $target for ${seconds} s (log $log)"
    # The last status line ("#N DONE cov: ... ft: ... corp: ...") and the final counts.
    grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE)' "$log" | tail -n 1 || true
    grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "$log" | tr '\n' ' ' && echo
    if [ "$status" -ne 0 ]; then
      echo "fuzz: $target FAILED (exit $status); the end of its log:"
      tail -n 40 "$log"
      touch "$build/fuzz/$target.failed"
    fi
  } >"$summary"
}

# One target per core at a time: each still gets its $seconds of one core, and the stage takes
# 1/nproc of the time it took in turn.
mkdir -p "$build/fuzz"
running=0
for target in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
  fuzz_one "$target" &
  running=$((running + 1))
done
wait

failed=()
for target in "${targets[@]}"; do
  cat "$build/fuzz/$target.summary"
  if [ -e "$build/fuzz/$target.failed" ]; then failed+=("$target"); fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]} (inputs in $build/fuzz/artifacts/)"
  exit 1
fi
echo "fuzz: no findings in ${targets[*]}"
