#!/usr/bin/env python3
"""Writes the hand-made fuzz seeds in tests/fuzz/seeds/TARGET/ (run.sh adds the files of tests/data and
examples). Each seed is small and reaches a different branch of its parser. Run from anywhere:
    python3 tests/fuzz/make_seeds.py
"""
import os
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")


def write(target, name, data):
    os.makedirs(os.path.join(HERE, target), exist_ok=True)
    with open(os.path.join(HERE, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def npy(descr, shape, values, fortran=False, version=1):
    """A .npy file as numpy.save writes it (format 1.0 or 2.0), without needing numpy."""
    shape_text = "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape_text)
    length_size = 2 if version == 1 else 4
    pad = 64 - (10 + length_size - 2 + len(header) + 1) % 64
    header = (header + " " * (pad % 64) + "\n").encode()
    length = struct.pack("<H" if version == 1 else "<I", len(header))
    data = struct.pack("<%d%s" % (len(values), {"<f8": "d", "<f4": "f", "<i8": "q"}[descr]), *values)
    return b"\x93NUMPY" + bytes([version, 0]) + length + header + data


# points, CSV: separators, a header line, blank lines, exponents, a ragged row, a bad field.
write("points_csv", "header_comma.csv", "x,y,z\n0,0.5,1\n-1e-3,2,3e2\n")
write("points_csv", "tabs_semicolons.csv", "1\t2;3\r\n4 5 6\n\n7,8,9\n")
write("points_csv", "one_column.csv", "0.25\n0.5\n")
write("points_csv", "ragged.csv", "1,2\n3\n")
write("points_csv", "bad_field.csv", "1,2\n3,x\n")
write("points_csv", "special_values.csv", "nan,inf\n-inf,1e999\n0x1p3,-0\n")

# points, .npy: float64 and float32, format versions 1 and 2, Fortran order, other dtypes, 1-D and 3-D.
write("points_npy", "f8.npy", npy("<f8", (3, 2), [0, 1, 2, 3, 4, 5]))
write("points_npy", "f4.npy", npy("<f4", (2, 3), [0, 1, 2, 3, 4, 5]))
write("points_npy", "fortran.npy", npy("<f8", (3, 2), [0, 2, 4, 1, 3, 5], fortran=True))
write("points_npy", "int64.npy", npy("<i8", (2, 2), [0, 1, 2, 3]))
write("points_npy", "one_d.npy", npy("<f8", (3,), [0, 1, 2]))
write("points_npy", "three_d.npy", npy("<f8", (1, 2, 2), [0, 0, 0, 0]))
write("points_npy", "empty.npy", npy("<f8", (0, 2), []))
write("points_npy", "version2.npy", npy("<f8", (2, 2), [1, 1, 1, 1], version=2))

# polytope domains: a triangle, a box given with lo/hi, an empty and an unbounded polytope, bad shapes.
write("polytope_domain", "triangle.json", '{"A": [[-1, 0], [0, -1], [1, 1]], "b": [0, 0, 1]}')
write("polytope_domain", "with_box.json", '{"A": [[1, 1]], "b": [1], "lo": [-1, -1], "hi": [1, 1]}')
write("polytope_domain", "empty.json", '{"A": [[1], [-1]], "b": [-1, -1]}')
write("polytope_domain", "unbounded.json", '{"A": [[1, 0]], "b": [1]}')
write("polytope_domain", "ragged.json", '{"A": [[1, 0], [1]], "b": [1, 1]}')
write("polytope_domain", "cube_3d.json",
      '{"A": [[1,0,0],[-1,0,0],[0,1,0],[0,-1,0],[0,0,1],[0,0,-1]], "b": [1,1,1,1,1,1]}')

# --box: the first byte is the network's input dimension, the rest the text.
for name, dim, text in [("broadcast", 2, "-1:1"), ("per_dimension", 3, "-1:1,0:2,-0.5:0.5"),
                        ("exponents", 1, "-1e6:1e6"), ("empty_interval", 2, "1:1"),
                        ("reversed", 1, "1:-1"), ("count_mismatch", 3, "0:1,0:1"),
                        ("no_colon", 2, "-1"), ("not_a_number", 2, "a:b"), ("huge", 1, "-1e308:1e308"),
                        ("overflow", 1, "-1e999:1"), ("any_dimension", 0, "0:1,0:1")]:
    write("box_parser", name, bytes([dim]) + text.encode())

# JSON models beyond tests/data: a leaky ReLU with per-neuron slopes, PReLU, a domain, exponents.
write("json_model", "leaky_domain.json",
      '{"layers": [{"weight": [[1, -1], [0.5, 2]], "bias": [0, 1e-3], "activation": "leaky_relu",'
      ' "negative_slope": [0.1, 0.2]}, {"weight": [[1, 1]], "bias": [0]}],'
      ' "domain": {"lo": [-1, -2], "hi": [1, 2]}}')
write("json_model", "prelu.json",
      '{"layers": [{"weight": [[2.5e0]], "bias": [-1E-2], "activation": "prelu", "negative_slope": 0.25},'
      ' {"weight": [[1]], "bias": [0], "activation": "none"}]}')
