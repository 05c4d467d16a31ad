#!/usr/bin/env python3
"""Writes long_estimate_10x40x40.json: a ReLU MLP 10 -> 40 -> 40 -> 1 with PyTorch's default
initialisation (uniform +-1/sqrt(fan_in)), drawn with Python's random.Random(21) (standard library
only) and rounded to 6 digits, in [-1,1]^10. Counting it would take hours, so `count` warns before
starting it (tests/cli_tests.cmake, "estimates"); `estimate` sees that in a fraction of a second.
Run: python3 tests/data/make_estimate_models.py
"""
import json
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    rng = random.Random(21)
    sizes = [10, 40, 40, 1]
    layers = []
    for i in range(len(sizes) - 1):
        bound = 1 / math.sqrt(sizes[i])
        weight = [[round(rng.uniform(-bound, bound), 6) for _ in range(sizes[i])] for _ in range(sizes[i + 1])]
        bias = [round(rng.uniform(-bound, bound), 6) for _ in range(sizes[i + 1])]
        layers.append({"weight": weight, "bias": bias,
                       "activation": "relu" if i + 2 < len(sizes) else "none"})
    with open(os.path.join(HERE, "long_estimate_10x40x40.json"), "w") as f:
        json.dump({"layers": layers}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
