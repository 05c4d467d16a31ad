#!/bin/sh
# Issue 12: `mpirun -np K relutope count` and `export --jsonl` give what one process gives: the same count
# and statistics (count --json without its timing, thread and rank fields) as a plain run with as many
# threads as the job has and the job's cut (64 tasks per thread of the whole job; a plain run's default
# cut has fewer), and byte for byte the same JSON lines (the plain run's export with its own cut), for
# K = 1, 2, 3 ranks of one thread each.
#
# usage: same_as_one_process.sh RELUTOPE WORK_DIR MODEL [options for count and export...]
# MPIRUN names mpirun (default: the one on the PATH). Prints one "ok" line per check; the test's regular
# expression wants all six.
set -u
relutope=$1
work=$2
model=$3
shift 3
mpirun="${MPIRUN:-mpirun} --oversubscribe --allow-run-as-root"
rm -rf "$work"
mkdir -p "$work"
statistics() { sed -E 's/"(seconds|regions_per_second|threads|ranks)":[^,]*,//g' "$1"; }

for k in 1 2 3; do
  cut=""
  [ $k = 1 ] || cut="--tasks $((64 * k))"
  "$relutope" count "$model" --threads $k $cut --json -q "$@" > "$work/plain$k.json"
  $mpirun -np $k "$relutope" count "$model" --threads 1 --json -q "$@" > "$work/mpi$k.json"
  echo "np=$k count: exit $?"
  grep -q "\"ranks\":$k," "$work/mpi$k.json" || [ $k = 1 ] || echo "np=$k: not spread over $k ranks"
  statistics "$work/plain$k.json" > "$work/plain$k.stats"
  statistics "$work/mpi$k.json" > "$work/mpi$k.stats"
  cmp "$work/plain$k.stats" "$work/mpi$k.stats" && echo "np=$k same count and statistics: ok"
  cat "$work/mpi$k.json"

  "$relutope" export "$model" --threads $k --fields id,pattern,interior_point,volume --jsonl "$work/plain$k.jsonl" -q "$@"
  $mpirun -np $k "$relutope" export "$model" --threads 1 --fields id,pattern,interior_point,volume \
    --jsonl "$work/mpi$k.jsonl" -q "$@"
  echo "np=$k export: exit $?"
  [ -s "$work/plain$k.jsonl" ] && cmp "$work/plain$k.jsonl" "$work/mpi$k.jsonl" &&
    echo "np=$k same JSON lines: ok ($(wc -l < "$work/mpi$k.jsonl") lines)"
done
