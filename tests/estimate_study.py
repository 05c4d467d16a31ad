#!/usr/bin/env python3
"""Validates `relutope estimate` against exact counts (docs/estimate.md has the results).

On seeded random ReLU MLPs (PyTorch's default initialisation, drawn with Python's random.Random),
counts the regions exactly with `relutope count`, then runs `relutope estimate` RUNS times with
different seeds at each number of probes, and reports
  - coverage: how often the exact count lies inside the stated 95% interval;
  - the relative error |estimate - count| / count (median) and the mean signed error (bias);
  - the estimated run time of count against the measured one.
Run from the source folder: python3 tests/estimate_study.py [--relutope build/relutope] [--runs 20]
"""
import argparse
import json
import math
import os
import random
import statistics
import subprocess
import tempfile

SHAPES = [  # (inputs, hidden widths, box half-width)
    (2, [16, 16], 1), (2, [8, 8, 8], 1), (2, [24, 24, 24], 2), (3, [16, 16], 2), (3, [24, 24, 24], 4),
    (3, [32, 32, 32], 4), (4, [16, 16, 16], 2), (4, [32, 32], 2), (5, [20, 20], 1), (6, [16, 16, 16], 1),
]


def write_net(path, inputs, widths, box, seed):
    rng = random.Random(seed)
    sizes = [inputs] + widths + [1]
    layers = []
    for i in range(len(sizes) - 1):
        bound = 1 / math.sqrt(sizes[i])
        layers.append({"weight": [[rng.uniform(-bound, bound) for _ in range(sizes[i])] for _ in range(sizes[i + 1])],
                       "bias": [rng.uniform(-bound, bound) for _ in range(sizes[i + 1])],
                       "activation": "relu" if i + 2 < len(sizes) else "none"})
    with open(path, "w") as f:
        json.dump({"layers": layers, "domain": {"lo": [-box] * inputs, "hi": [box] * inputs}}, f)


def run(relutope, *args):
    out = subprocess.run([relutope, *args, "--json", "--quiet"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--relutope", default="build/relutope")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--probes", default="100,1000,10000")
    parser.add_argument("--threads", default="1")
    args = parser.parse_args()
    probe_counts = [int(p) for p in args.probes.split(",")]
    inside = {n: 0 for n in probe_counts}
    total = {n: 0 for n in probe_counts}
    errors = {n: [] for n in probe_counts}
    signed = {n: [] for n in probe_counts}
    below = {n: 0 for n in probe_counts}
    with tempfile.TemporaryDirectory() as work:
        print("net | regions | count s | estimated s (10^4 probes, mean of runs) | coverage per probes " +
              " ".join(str(n) for n in probe_counts))
        for k, (inputs, widths, box) in enumerate(SHAPES):
            path = os.path.join(work, f"net{k}.json")
            write_net(path, inputs, widths, box, 1000 + k)
            counted = run(args.relutope, "count", path, "--threads", args.threads)
            truth = counted["regions"]
            times = []
            covered = []
            for n in probe_counts:
                hits = 0
                for r in range(args.runs):
                    e = run(args.relutope, "estimate", path, "--probes", str(n), "--seed", str(r), "--threads",
                            args.threads)
                    hit = e["low"] <= truth <= e["high"]
                    hits += hit
                    below[n] += truth > e["high"]
                    errors[n].append(abs(e["regions"] - truth) / truth)
                    signed[n].append((e["regions"] - truth) / truth)
                    if n == max(probe_counts):
                        times.append(e["count_seconds"])
                inside[n] += hits
                total[n] += args.runs
                covered.append(f"{hits}/{args.runs}")
            name = f"{inputs}x{'x'.join(map(str, widths))} [-{box},{box}]"
            print(f"{name} | {truth} | {counted['seconds']:.3f} | {statistics.mean(times):.3f} | {' '.join(covered)}",
                  flush=True)
    print()
    print("probes | coverage of the 95% interval | exact count above the interval | median relative error | "
          "mean signed relative error")
    for n in probe_counts:
        print(f"{n} | {inside[n] / total[n]:.1%} ({inside[n]}/{total[n]}) | {below[n] / total[n]:.1%} | "
              f"{statistics.median(errors[n]):.1%} | {statistics.mean(signed[n]):+.1%}")


if __name__ == "__main__":
    main()
