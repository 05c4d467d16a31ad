#!/usr/bin/env bash
# One command from a fresh Debian 12 machine (as root): install, build, and run the whole test suite,
# first as released, then under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan), then each
# fuzz target for 30 s (build-fuzz, clang 14; tests/fuzz/run.sh). Each stage prints its time. CI runs
# this (.ci/run); any failure, sanitizer report or fuzz finding included, fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
stage() { echo "== test.sh: $1 ($(( SECONDS / 60 )) min $(( SECONDS % 60 )) s so far)"; }

stage "setup and release build"
bash tools/setup.sh --fuzz
stage "release tests"
ctest --test-dir build --output-on-failure -j "$jobs"

# -O1: the usual level for ASan, quicker to build than -O2 and still fast enough for the suite.
stage "sanitizer build (build-asan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
      -DRELUTOPE_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"
stage "sanitizer tests"
# Tests labelled release_only repeat, at ~15x the release time, a path other sanitized tests cover.
ctest --test-dir build-asan --output-on-failure -j "$jobs" -LE release_only
stage "fuzz targets, 30 s each (build-fuzz)"
bash tests/fuzz/run.sh 30
stage "done"
