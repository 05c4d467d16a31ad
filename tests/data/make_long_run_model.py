#!/usr/bin/env python3
"""Writes long_run_3x24x24x24.json: a ReLU MLP 3 -> 24 -> 24 -> 24 -> 1 with PyTorch's default
initialisation (uniform +-1/sqrt(fan_in)), drawn with Python's random.Random(12) (standard library only) and rounded to 6
digits, with the domain [-4,4]^3. It has ~10^5 regions, so a count cut into 1024 tasks runs long
enough (a second or so, longer for export --jsonl) to be stopped, killed and resumed by the long-run
tests (tests/cli_tests.cmake, "long runs"). Run: python3 tests/data/make_long_run_model.py
"""
import json
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    rng = random.Random(12)
    sizes = [3, 24, 24, 24, 1]
    layers = []
    for i in range(len(sizes) - 1):
        bound = 1 / math.sqrt(sizes[i])
        weight = [[round(rng.uniform(-bound, bound), 6) for _ in range(sizes[i])] for _ in range(sizes[i + 1])]
        bias = [round(rng.uniform(-bound, bound), 6) for _ in range(sizes[i + 1])]
        layers.append({"weight": weight, "bias": bias,
                       "activation": "relu" if i + 2 < len(sizes) else "none"})
    model = {"layers": layers, "domain": {"lo": [-4.0] * 3, "hi": [4.0] * 3}}
    with open(os.path.join(HERE, "long_run_3x24x24x24.json"), "w") as f:
        json.dump(model, f)
        f.write("\n")


if __name__ == "__main__":
    main()
