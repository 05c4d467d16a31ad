#!/bin/sh
# MPI benchmarks of BENCHMARKS.md ("MPI", issue 12); not a test. Run from the source folder after a
# release build, on a quiet machine, holding the build lock so that no build runs meanwhile:
#   flock /tmp/relutope-build.lock sh tests/mpi/benchmark.sh build/relutope [WORK_DIR]
# Prints the load of the machine, then
#   1. speed-up: 1 process x 1 thread against mpirun -np 2 x 1 thread (best of 3 each) on a count of
#      ~2.4 million regions (make_long_run_model.py --sizes 4,48,48,1 --seed 12 --box 4);
#   2. load balance: the busy seconds of each of 8 oversubscribed ranks x 1 thread (count --verbose);
#   3. rank 0's rate: tasks per second when every task is about one region (--tasks 1048576 on
#      long_run_3x24x24x24.json: 44,372 regions), 8 ranks x 1 thread;
#   4. task sizes: regions per task of the default cut of 2 and 8 ranks and of a checkpoint's 1,024 tasks;
#   5. JSON lines: bytes per region that export --jsonl sends to rank 0 (default fields).
set -u
relutope=$1
work=${2:-/tmp/relutope_mpi_benchmark}
mpirun="${MPIRUN:-mpirun} --oversubscribe --allow-run-as-root"
mkdir -p "$work"
model=$work/b4x48x48.json
python3 tests/data/make_long_run_model.py --sizes 4,48,48,1 --seed 12 --box 4 --out "$model"
echo "load before: $(cat /proc/loadavg)"
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

best() {  # best of 3 seconds of a count --json command
  b=
  for i in 1 2 3; do
    "$@" > "$work/run.json"
    s=$(field "$work/run.json" seconds)
    b=$(python3 -c "print(min(float('$s'), float('${b:-1e9}')))")
  done
  echo "$b"
}
one=$(best "$relutope" count "$model" --threads 1 --json -q)
two=$(best $mpirun -np 2 "$relutope" count "$model" --threads 1 --json -q)
echo "1. $(field "$work/run.json" regions) regions: 1 rank x 1 thread $one s, 2 ranks x 1 thread $two s, speed-up $(python3 -c "print(round($one / $two, 2))")x"

$mpirun -np 8 "$relutope" count "$model" --threads 1 --verbose -q > /dev/null 2> "$work/busy.err"
grep "busy seconds" "$work/busy.err" | sed 's/.*rank: //' | python3 -c "
import sys
b = [float(x) for x in sys.stdin.read().split()]
m = sum(b) / len(b)
print('2. busy seconds of 8 ranks:', ' '.join('%.2f' % x for x in b), '; max/mean %.3f, min/mean %.3f' % (max(b) / m, min(b) / m))"

$mpirun -np 8 "$relutope" count tests/data/long_run_3x24x24x24.json --threads 1 --tasks 1048576 --json -q > "$work/rate.json"
echo "3. $(field "$work/rate.json" tasks) tasks in $(field "$work/rate.json" seconds) s over 8 ranks: $(python3 -c "
import json; d = json.load(open('$work/rate.json')); print(round(d['tasks'] / d['seconds']))") tasks/s through rank 0"

for run in "2:--tasks 128" "8:--tasks 512" "1024:--checkpoint $work/sizes.ckpt"; do
  name=${run%%:*}
  rm -f "$work/sizes.ckpt"
  "$relutope" count "$model" --threads 2 -q $(echo "${run#*:}" | sed "s|--tasks|--checkpoint $work/sizes.ckpt --tasks|") > /dev/null
  python3 - "$work/sizes.ckpt" "$name" << 'PY'
import json, sys
d = json.loads(open(sys.argv[1]).readline())
r = sorted(t[1] for t in d["done"])
q = lambda p: r[min(len(r) - 1, int(p * len(r)))]
print("4. cut for %s: %d tasks, regions per task min %d, 10%% %d, median %d, 90%% %d, 99%% %d, max %d (%.1f%% of %d)" % (
    sys.argv[2] + (" ranks x 1 thread" if sys.argv[2] != "1024" else " (checkpoint)"), len(r), r[0], q(.1), q(.5), q(.9),
    q(.99), r[-1], 100 * r[-1] / sum(r), sum(r)))
PY
done

"$relutope" export tests/data/long_run_3x24x24x24.json --jsonl "$work/all.jsonl" -q
echo "5. export --jsonl: $(($(wc -c < "$work/all.jsonl") / $(wc -l < "$work/all.jsonl"))) bytes per region (default fields, 3 inputs, 72 neurons)"
echo "load after: $(cat /proc/loadavg)"
