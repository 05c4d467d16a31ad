#!/bin/sh
# Issue 12: runs under mpirun stop and resume like one process.
#   time    a count under 2 ranks stopped by --time-limit 0.5 (exit 5, a lower bound, a checkpoint) resumes under 3
#           ranks, and the same checkpoint without mpirun, to the count and statistics of an uninterrupted run;
#           on long_run_exact_4x20x20x20.json with the LP engine (215,760 regions, ~2 s under 2 ranks at load 5, its
#           cut well under 0.3 s even at load 5): the limit falls after the cut and well before the end whether
#           the engine or the machine gets faster or slower (0.2 s on the smaller net stopped in the cut at load 7);
#   export  on long_run_3x24x24x24.json (44,372 regions):
#           an export --jsonl under 2 ranks stopped by --max-regions resumes under 3 ranks to the same bytes;
#   TERM    SIGTERM to mpirun: rank 0 prints the partial count and writes the checkpoint before mpirun's
#           SIGKILL a second later (mpirun itself exits 1, Open MPI's rule); SIGTERM to the ranks themselves, as
#           a batch system sends it: mpirun exits 5. Both checkpoints resume to the exact count. This one
#           counts with --engine exact on long_run_exact_4x20x20x20.json (215,760 regions, ~7 s on two
#           cores), which still runs when the signal comes.
# usage: stop_and_resume.sh RELUTOPE WORK_DIR time|export|TERM   (MPIRUN names mpirun; default: the PATH's)
# Run from the source folder. Prints what it checked; the test's regular expression wants every "ok".
set -u
relutope=$1
work=$2
how=$3
model=tests/data/long_run_3x24x24x24.json
exact_model=tests/data/long_run_exact_4x20x20x20.json
mpirun="${MPIRUN:-mpirun} --oversubscribe --allow-run-as-root"
rm -rf "$work"
mkdir -p "$work"
statistics() { sed -E 's/"(seconds|regions_per_second|threads|ranks|tasks_resumed)":[^,]*,//g' "$1"; }
regions_in() { sed -E 's/.*"regions":([0-9]+),.*/\1/' "$1"; }
same_as_reference() {  # NAME: its count --json against the uninterrupted run's
  statistics "$work/reference.json" > "$work/reference.stats"
  statistics "$work/$1.json" > "$work/$1.stats"
  cmp "$work/reference.stats" "$work/$1.stats" && echo "$1: same count and statistics as the uninterrupted run: ok"
}

case $how in
  time)
    model=$exact_model
    "$relutope" count "$model" --engine lp --json -q --checkpoint "$work/reference.ckpt" > "$work/reference.json"
    $mpirun -np 2 "$relutope" count "$model" --engine lp --threads 1 --json -q --checkpoint "$work/part.ckpt" \
      --time-limit 0.5 > "$work/part.json"
    echo "stopped: exit $?"
    grep -q '"complete":false,"stopped":"time limit"' "$work/part.json" &&
      [ "$(regions_in "$work/part.json")" -lt "$(regions_in "$work/reference.json")" ] &&
      echo "lower bound: ok ($(regions_in "$work/part.json") regions)"
    cp "$work/part.ckpt" "$work/part_copy.ckpt"
    $mpirun -np 3 "$relutope" count "$model" --engine lp --threads 1 --json -q --resume "$work/part.ckpt" \
      --checkpoint "$work/part.ckpt" > "$work/resumed_3_ranks.json"
    echo "resumed under 3 ranks: exit $?"
    grep -q '"tasks_resumed":[1-9]' "$work/resumed_3_ranks.json" && echo "tasks resumed: ok"
    same_as_reference resumed_3_ranks
    "$relutope" count "$model" --engine lp --threads 2 --json -q --resume "$work/part_copy.ckpt" > "$work/resumed_alone.json"
    echo "resumed without mpirun: exit $?"
    same_as_reference resumed_alone
    ;;
  export)
    "$relutope" export "$model" --engine lp --fields id,pattern,interior_point --jsonl "$work/reference.jsonl" -q
    $mpirun -np 2 "$relutope" export "$model" --engine lp --threads 1 --fields id,pattern,interior_point \
      --jsonl "$work/part.jsonl" -q --checkpoint "$work/part.ckpt" --max-regions 20000
    echo "stopped: exit $?"
    [ "$(wc -l < "$work/part.jsonl")" = 20000 ] && head -n 20000 "$work/reference.jsonl" | cmp -s - "$work/part.jsonl" &&
      echo "lower bound: ok (the first 20000 lines of the full output)"
    $mpirun -np 3 "$relutope" export "$model" --engine lp --threads 1 --fields id,pattern,interior_point \
      --jsonl "$work/part.jsonl" -q --resume "$work/part.ckpt"
    echo "resumed under 3 ranks: exit $?"
    cmp "$work/reference.jsonl" "$work/part.jsonl" && echo "same JSON lines as the uninterrupted run: ok"
    ;;
  TERM)
    for target in mpirun ranks; do
      $mpirun -np 2 "$relutope" count "$exact_model" --engine exact --threads 1 --checkpoint "$work/$target.ckpt" \
        --checkpoint-every 0.2 > "$work/$target.out" 2> "$work/$target.err" &
      pid=$!
      waited=0
      while [ ! -f "$work/$target.ckpt" ] && [ $waited -lt 1200 ]; do  # past the cut, tasks are done
        sleep 0.05
        waited=$((waited + 1))
      done
      sleep 0.5
      if [ $target = mpirun ]; then kill -TERM $pid; else kill -TERM $(pgrep -P $pid); fi
      wait $pid
      echo "SIGTERM to $target: mpirun exit $?"
      cat "$work/$target.out"
      grep -q "^at least [0-9,]* regions (stopped: SIGTERM)" "$work/$target.out" && echo "$target: lower bound printed: ok"
      "$relutope" count "$exact_model" --engine exact --threads 2 --resume "$work/$target.ckpt" --json -q > "$work/$target.json"
      grep -q '"regions":215760,"complete":true' "$work/$target.json" && echo "$target: resumed to the exact count: ok"
    done
    ;;
esac
