#!/usr/bin/env python3
"""Generate the auto_pad fixtures in tests/data/graph/ (next to this script).

torch.onnx.export never writes auto_pad (it writes explicit pads, also for padding="same"), but
other exporters (TensorFlow's tf2onnx, Keras) do, and the ONNX loader supports it for Conv,
MaxPool and AveragePool. So these models are built with onnx.helper, and their truth is computed
here in float64 by plain loops that follow the ONNX operator spec (not by relutope, not by torch):
SAME_UPPER / SAME_LOWER give ceil(in / stride) outputs, with the total padding
max((out - 1) * stride + (kernel - 1) * dilation + 1 - in, 0) split in two, the odd one at the end
(SAME_UPPER) or at the beginning (SAME_LOWER); VALID pads nothing. MaxPool ignores padded cells,
AveragePool with count_include_pad=0 (the default) divides by the cells inside.

Each <name>.onnx has a <name>.io.txt in the format of make_graph_models.py: "# inputs <n> outputs
<m>", then 20 lines of a seeded input (uniform in [-1, 1]) and its output, "%.17g".

Rerun: /usr/bin/python3 tests/data/graph/make_auto_pad_models.py (deterministic).
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
N_SAMPLES = 20


def same_pads(size, kernel, stride, dilation, mode):
    """(begin, end) padding of one spatial axis for auto_pad `mode`."""
    if mode == "VALID":
        return 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    begin = total // 2 if mode == "SAME_UPPER" else total - total // 2
    return begin, total - begin


def output_size(size, kernel, stride, dilation, mode):
    if mode == "VALID":
        return (size - (kernel - 1) * dilation - 1) // stride + 1
    return -(-size // stride)


def conv(x, w, b, stride, mode):
    """x: C x H x W, w: M x C x kh x kw (dilation 1)."""
    c, h, wd = x.shape
    m, _, kh, kw = w.shape
    (pt, _), (pl, _) = same_pads(h, kh, stride, 1, mode), same_pads(wd, kw, stride, 1, mode)
    oh, ow = output_size(h, kh, stride, 1, mode), output_size(wd, kw, stride, 1, mode)
    y = np.zeros((m, oh, ow))
    for o in range(m):
        for i in range(oh):
            for j in range(ow):
                s = b[o]
                for ci in range(c):
                    for p in range(kh):
                        for q in range(kw):
                            r, t = i * stride - pt + p, j * stride - pl + q
                            if 0 <= r < h and 0 <= t < wd:
                                s += w[o, ci, p, q] * x[ci, r, t]
                y[o, i, j] = s
    return y


def pool(x, kernel, stride, mode, kind):
    """MaxPool or AveragePool (count_include_pad=0) of C x H x W, square kernel and stride."""
    c, h, wd = x.shape
    (pt, _), (pl, _) = same_pads(h, kernel, stride, 1, mode), same_pads(wd, kernel, stride, 1, mode)
    oh, ow = output_size(h, kernel, stride, 1, mode), output_size(wd, kernel, stride, 1, mode)
    y = np.zeros((c, oh, ow))
    for ci in range(c):
        for i in range(oh):
            for j in range(ow):
                cells = [x[ci, i * stride - pt + p, j * stride - pl + q] for p in range(kernel) for q in range(kernel)
                         if 0 <= i * stride - pt + p < h and 0 <= j * stride - pl + q < wd]
                y[ci, i, j] = max(cells) if kind == "MaxPool" else sum(cells) / len(cells)
    return y


def make(name, in_shape, conv_mode, pool_kind, pool_mode, seed):
    rng = np.random.default_rng(seed)
    w = rng.uniform(-1, 1, (2, in_shape[0], 3, 3)).astype(np.float32)
    b = rng.uniform(-0.5, 0.5, 2).astype(np.float32)
    conv_attrs = {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": conv_mode}
    pool_attrs = {"kernel_shape": [2, 2], "strides": [2, 2], "auto_pad": pool_mode}
    nodes = [helper.make_node("Conv", ["input", "w", "b"], ["c"], name="conv", **conv_attrs),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node(pool_kind, ["r"], ["p"], name="pool", **pool_attrs),
             helper.make_node("Flatten", ["p"], ["output"], name="flatten")]
    x = rng.uniform(-1, 1, (N_SAMPLES, *in_shape))
    w64, b64 = w.astype(np.float64), b.astype(np.float64)
    ys = [pool(np.maximum(conv(xi, w64, b64, 2, conv_mode), 0), 2, 2, pool_mode, pool_kind).reshape(-1) for xi in x]
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", *in_shape])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", len(ys[0])])],
                              [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, f"{name}.onnx"))
    rows = [list(xi.reshape(-1)) + list(y) for xi, y in zip(x, ys)]
    with open(os.path.join(HERE, f"{name}.io.txt"), "w") as f:
        f.write(f"# inputs {x[0].size} outputs {len(rows[0]) - x[0].size}\n")
        for r in rows:
            f.write(" ".join("%.17g" % v for v in r) + "\n")
    print("wrote", name)


def main():
    # Odd sizes and stride 2, so that SAME padding is asymmetric and UPPER differs from LOWER.
    make("auto_pad_same_upper", (1, 6, 5), "SAME_UPPER", "MaxPool", "SAME_UPPER", seed=40)
    make("auto_pad_same_lower", (2, 5, 7), "SAME_LOWER", "AveragePool", "SAME_LOWER", seed=41)
    make("auto_pad_valid", (1, 7, 6), "VALID", "MaxPool", "SAME_LOWER", seed=42)


if __name__ == "__main__":
    main()
