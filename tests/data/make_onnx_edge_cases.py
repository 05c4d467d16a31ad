#!/usr/bin/env python3
"""Writes tests/data/onnx_edge_cases.onnx and onnx_edge_cases.io.txt: an MLP built by hand with onnx.helper
that uses what torch.onnx.export rarely emits: Constant nodes, a Reshape of the input, Gemm with alpha, beta
and transB=0, Identity, and MatMul + Add with a Constant bias. The outputs are computed with numpy.

Rerun (Debian's python3-onnx and python3-numpy): /usr/bin/python3 tests/data/make_onnx_edge_cases.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(5)
B = rng.uniform(-1, 1, (4, 3)).astype(np.float32)  # Gemm B, transB = 0: y = alpha x B + beta C
C = rng.uniform(-1, 1, (3,)).astype(np.float32)
W = rng.uniform(-1, 1, (3, 2)).astype(np.float32)
b = rng.uniform(-1, 1, (2,)).astype(np.float32)
alpha, beta = 0.5, 2.0

nodes = [
    helper.make_node("Constant", [], ["shape"], value=numpy_helper.from_array(np.array([1, 4], dtype=np.int64))),
    helper.make_node("Reshape", ["input", "shape"], ["flat"], name="reshape_input"),
    helper.make_node("Gemm", ["flat", "B", "C"], ["z1"], name="gemm", alpha=alpha, beta=beta, transB=0),
    helper.make_node("Relu", ["z1"], ["h1"], name="relu"),
    helper.make_node("Identity", ["h1"], ["h1b"], name="identity"),
    helper.make_node("MatMul", ["h1b", "W"], ["z2"], name="matmul"),
    helper.make_node("Constant", [], ["bias"], value=numpy_helper.from_array(b)),
    helper.make_node("Add", ["z2", "bias"], ["output"], name="add"),
]
graph = helper.make_graph(
    nodes, "edge_cases",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 2, 2])],
    [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 2])],
    initializer=[numpy_helper.from_array(B, "B"), numpy_helper.from_array(C, "C"), numpy_helper.from_array(W, "W")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
onnx.save(model, os.path.join(here, "onnx_edge_cases.onnx"))

x = rng.uniform(-1, 1, (20, 4))
h = np.maximum(alpha * x @ B.astype(np.float64) + beta * C.astype(np.float64), 0)
y = h @ W.astype(np.float64) + b.astype(np.float64)
with open(os.path.join(here, "onnx_edge_cases.io.txt"), "w") as f:
    f.write("# inputs 4 outputs 2\n")
    for xi, yi in zip(x, y):
        f.write(" ".join("%.17g" % v for v in list(xi) + list(yi)) + "\n")
