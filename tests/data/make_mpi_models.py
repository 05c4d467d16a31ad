#!/usr/bin/env python3
"""Writes the seeded networks of the MPI tests (tests/mpi/, issue 12) with make_long_run_model.py's recipe
(PyTorch's default initialisation drawn with random.Random(seed), rounded to 6 digits):

  mpi_2x32x32.json     2 -> 32 -> 32 -> 1 on [-4,4]^2 (vertex engine)
  mpi_4x12x12.json     4 -> 12 -> 12 -> 1 on [-3,3]^4 (counted with --engine lp in the tests)
  mpi_one_big_task.json 2 -> 8 -> 96 -> 1 on [-1,1]^2 whose first 3 neurons have zero biases: their lines
                       meet at the origin, a degenerate vertex the vertex engine decides in exact arithmetic
                       and does not cut below, so one of its 4 tasks holds 537 of the 886 regions (the
                       imbalance case)

Run: python3 tests/data/make_mpi_models.py
"""
import json
import os

from make_long_run_model import model

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    nets = {
        "mpi_2x32x32.json": model([2, 32, 32, 1], 3, 4),
        "mpi_4x12x12.json": model([4, 12, 12, 1], 4, 3),
    }
    skew = model([2, 8, 96, 1], 5, 1)
    skew["layers"][0]["bias"][:3] = [0.0] * 3
    nets["mpi_one_big_task.json"] = skew
    for name, net in nets.items():
        with open(os.path.join(HERE, name), "w") as f:
            json.dump(net, f)
            f.write("\n")


if __name__ == "__main__":
    main()
