#!/usr/bin/env python3
"""Writes long_run_3x24x24x24.json: a ReLU MLP 3 -> 24 -> 24 -> 24 -> 1 with PyTorch's default
initialisation (uniform +-1/sqrt(fan_in)), drawn with Python's random.Random(12) (standard library only)
and rounded to 6 digits, with the domain [-4,4]^3. It has 44,372 regions, so a count cut into 1024 tasks
runs long enough (a second or so with --engine lp, longer for export --jsonl) to be stopped, killed and
resumed by the long-run tests (tests/cli_tests.cmake, "long runs"). long_run_3x16x16x16.json (10,309 regions,
--sizes 3,16,16,16,1 --out ...) is the smaller one those tests take in the sanitizer build (~4 s there).

Run: python3 tests/data/make_long_run_model.py
The same recipe with other sizes makes the benchmark networks of BENCHMARKS.md ("Long runs"), e.g.
     python3 tests/data/make_long_run_model.py --sizes 4,96,96,96,1 --box 8 --out b4x96.json
"""
import argparse
import json
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))


def model(sizes, seed, box):
    rng = random.Random(seed)
    layers = []
    for i in range(len(sizes) - 1):
        bound = 1 / math.sqrt(sizes[i])
        weight = [[round(rng.uniform(-bound, bound), 6) for _ in range(sizes[i])] for _ in range(sizes[i + 1])]
        bias = [round(rng.uniform(-bound, bound), 6) for _ in range(sizes[i + 1])]
        layers.append({"weight": weight, "bias": bias,
                       "activation": "relu" if i + 2 < len(sizes) else "none"})
    return {"layers": layers, "domain": {"lo": [-float(box)] * sizes[0], "hi": [float(box)] * sizes[0]}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="3,24,24,24,1", help="layer sizes, input first")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--box", type=float, default=4, help="the domain is [-box, box]^inputs")
    parser.add_argument("--out", default=os.path.join(HERE, "long_run_3x24x24x24.json"))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with open(args.out, "w") as f:
        json.dump(model(sizes, args.seed, args.box), f)
        f.write("\n")


if __name__ == "__main__":
    main()
