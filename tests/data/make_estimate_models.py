#!/usr/bin/env python3
"""Writes long_estimate_10x40x40.json: a ReLU MLP 10 -> 40 -> 40 -> 1 with PyTorch's default
initialisation (uniform +-1/sqrt(fan_in)), drawn with Python's random.Random(21) (standard library
only) and rounded to 6 digits, in [-1,1]^10 (the default domain: the file has none). Counting it would
take hours, so `count` warns before starting it (tests/cli_tests.cmake, "estimates"); `estimate` sees
that in a fraction of a second.
Run: python3 tests/data/make_estimate_models.py
"""
import json
import os

from make_long_run_model import HERE, model


def main():
    net = model([10, 40, 40, 1], seed=21, box=1)
    del net["domain"]
    with open(os.path.join(HERE, "long_estimate_10x40x40.json"), "w") as f:
        json.dump(net, f)
        f.write("\n")


if __name__ == "__main__":
    main()
