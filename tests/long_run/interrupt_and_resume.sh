#!/bin/sh
# Issue 12: a run of `relutope count` or `export --jsonl` on long_run_3x24x24x24.json (44,372 regions) is
# interrupted, then resumed from its checkpoint with another thread count; the result must equal an
# uninterrupted run's: the same count and statistics (count --json), the same bytes (export --jsonl).
#
# usage: interrupt_and_resume.sh RELUTOPE WORK_DIR count|export kill9|INT|TERM|time|regions [MODEL]
#   kill9        kill -9 after the first checkpoint
#   INT, TERM    the signal after the first checkpoint: exit 5, a lower bound, a checkpoint at the end
#   time         --time-limit 1: the same, on long_run_exact_4x20x20x20.json (215,760 regions, ~3 s on one thread
#                with the LP engine, its cut well under 0.3 s even at load 5), so that the limit falls after the cut
#                and well before the end whether the engine or the machine gets faster or slower
#   regions      --max-regions 5000: the same
#   MODEL        instead of the network above (the sanitizer build's kill9 runs take a smaller one)
# Run from the source folder. Prints what it checked; the test's regular expression wants every "ok".
set -u
relutope=$1
work=$2
kind=$3
how=$4
model=tests/data/long_run_3x24x24x24.json
if [ "$how" = time ]; then model=tests/data/long_run_exact_4x20x20x20.json; fi
if [ $# -ge 5 ]; then model=$5; fi
rm -rf "$work"
mkdir -p "$work"

# run OUTPUT_NAME [options]: count --json on stdout to OUTPUT_NAME.json, or export to OUTPUT_NAME.jsonl.
# `run ... &` runs in a subshell, which exec turns into relutope itself, so that $! is relutope's pid.
run() {
  name=$1
  shift
  if [ "$kind" = count ]; then
    exec "$relutope" count "$model" --engine lp --json "$@" > "$work/$name.json" 2> "$work/$name.err"
  else
    exec "$relutope" export "$model" --engine lp --fields id,pattern,interior_point --jsonl "$work/$name.jsonl" -q "$@" \
      2> "$work/$name.err"
  fi
}
# Everything but the timing and what a resumed run did before.
statistics() { sed -E 's/"(seconds|regions_per_second|tasks_resumed)":[^,]*,//g' "$1"; }
regions_in() { sed -E 's/.*"regions":([0-9]+),.*/\1/' "$1"; }

(run reference --checkpoint "$work/reference.ckpt")
echo "uninterrupted: exit $?"

case $how in
  kill9 | INT | TERM)
    run part --threads 1 --checkpoint "$work/part.ckpt" --checkpoint-every 0.1 &
    pid=$!
    waited=0
    while [ ! -f "$work/part.ckpt" ] && [ $waited -lt 600 ]; do
      sleep 0.05
      waited=$((waited + 1))
    done
    if [ "$how" = kill9 ]; then signal=KILL; else signal=$how; fi
    if kill -0 $pid 2> /dev/null; then echo "still running after the first checkpoint: ok"; fi
    kill -$signal $pid
    wait $pid
    code=$?
    ;;
  time)
    (run part --threads 1 --checkpoint "$work/part.ckpt" --time-limit 1)
    code=$?
    ;;
  regions)
    (run part --threads 1 --checkpoint "$work/part.ckpt" --max-regions 5000)
    code=$?
    ;;
esac
echo "interrupted: exit $code"
cat "$work/part.err"

if [ "$how" != kill9 ]; then
  # What the stopped run reported is a lower bound, and what it wrote the start of the full output.
  if [ "$kind" = count ]; then
    grep -q '"complete":false' "$work/part.json" && [ "$(regions_in "$work/part.json")" -le "$(regions_in "$work/reference.json")" ] &&
      [ "$(regions_in "$work/part.json")" -gt 0 ] && echo "lower bound: ok ($(regions_in "$work/part.json") regions)"
  else
    size=$(wc -c < "$work/part.jsonl")
    [ "$size" -gt 0 ] && head -c "$size" "$work/reference.jsonl" | cmp -s - "$work/part.jsonl" &&
      echo "lower bound: ok ($(wc -l < "$work/part.jsonl") lines, the first of the full output)"
  fi
fi

(run part --threads 2 --resume "$work/part.ckpt" --checkpoint "$work/part.ckpt")
echo "resumed: exit $?"
cat "$work/part.err"
if [ "$kind" = count ]; then
  statistics "$work/reference.json" > "$work/reference.stats"
  statistics "$work/part.json" > "$work/part.stats"
  cmp "$work/reference.stats" "$work/part.stats" && echo "same count and statistics as the uninterrupted run: ok"
  grep -q '"tasks_resumed":[1-9]' "$work/part.json" && echo "tasks resumed: ok"
  cat "$work/part.json"
else
  cmp "$work/reference.jsonl" "$work/part.jsonl" && echo "same JSON lines as the uninterrupted run: ok ($(wc -l < "$work/part.jsonl") lines)"
fi
