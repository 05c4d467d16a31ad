#!/usr/bin/env python3
"""Generate the ONNX / JSON test fixtures for relutope in tests/data/ (next to this script).

Good models (exported with torch.onnx.export, eval mode, dynamic batch axis,
input name "input", output name "output"):
  torch_mlp_opset11.onnx   Sequential(Linear(3,8), ReLU, Linear(8,8), LeakyReLU(0.1),
                           Dropout(0.5), Linear(8,2)), opset 11 (Gemm transB=1).
  torch_mlp_opset17.onnx   Sequential(Flatten(), Linear(4,6), ReLU, Linear(6,6), PReLU(6),
                           Linear(6,3)), input shape (1,2,2), opset 17.
  torch_mlp_matmul.onnx    custom module computing x @ W + b with explicit Parameters
                           (MatMul + Add nodes), 2 -> 5 ReLU -> 5 ReLU -> 1, opset 13.
  <name>.io.txt            20 seeded inputs, uniform in [-1,1], and PyTorch's (float32)
                           outputs. First line "# inputs <in_dim> outputs <out_dim>", then one
                           line per sample: flattened (row-major) inputs then outputs,
                           space-separated, "%.17g".
  torch_mlp_opset11.json   the opset-11 network in relutope's JSON format.
  tiny_2d.json, one_layer_1d.json   hand-checkable JSON networks (4 regions each).

Bad models (bad/, each with exactly one defect): see tests/data/README.md.

Rerun (from any directory; Debian's python has torch/onnx):
    /usr/bin/python3 tests/data/make_test_models.py

Deterministic: every model is built right after torch.manual_seed(<fixed seed>), the
io inputs come from numpy.random.default_rng(<fixed seed>), torch runs single-threaded.
Only torch, numpy and onnx are used.
"""
import copy
import math
import os
import warnings

import numpy as np
import onnx
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
BAD = os.path.join(HERE, "bad")
N_IO_SAMPLES = 20

warnings.filterwarnings("ignore")  # torch.onnx export chatter


# --------------------------------------------------------------------------- helpers

def export(model, example, path, opset):
    model.eval()
    torch.onnx.export(
        model, example, path,
        opset_version=opset,
        input_names=["input"], output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
    )
    onnx.checker.check_model(onnx.load(path))
    print(f"wrote {os.path.relpath(path, HERE)}")


def write_io(model, in_shape, path, seed):
    """20 samples: flattened inputs (float32 values) followed by torch outputs."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, size=(N_IO_SAMPLES,) + tuple(in_shape)).astype(np.float32)
    model.eval()
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy()
    xf = x.reshape(N_IO_SAMPLES, -1)
    yf = y.reshape(N_IO_SAMPLES, -1)
    with open(path, "w") as f:
        f.write(f"# inputs {xf.shape[1]} outputs {yf.shape[1]}\n")
        for xi, yi in zip(xf, yf):
            f.write(" ".join("%.17g" % float(v) for v in list(xi) + list(yi)) + "\n")
    print(f"wrote {os.path.relpath(path, HERE)}")


def fmt_num(v):
    """Shortest round-trip repr of a float (float32 values are exact in double)."""
    v = float(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v)) if v != 0 or math.copysign(1.0, v) > 0 else "0"
    return repr(v)


def fmt_vec(vals):
    return "[" + ", ".join(v if isinstance(v, str) else fmt_num(v) for v in vals) + "]"


def json_text(layers, domain=None):
    """Pretty-print a network: one weight row per line.

    layers: list of dicts with keys weight (list of rows), bias (list),
    activation (str) and optionally negative_slope (number or list).
    Entries may be pre-formatted strings (used to inject literal defects).
    """
    out = ['{', '  "layers": [']
    for li, layer in enumerate(layers):
        out.append('    {')
        out.append('      "weight": [')
        rows = layer["weight"]
        for ri, row in enumerate(rows):
            out.append('        ' + fmt_vec(row) + (',' if ri + 1 < len(rows) else ''))
        out.append('      ],')
        out.append('      "bias": ' + fmt_vec(layer["bias"]) + ',')
        fields = ['"activation": "%s"' % layer["activation"]]
        if "negative_slope" in layer:
            s = layer["negative_slope"]
            fields.append('"negative_slope": ' + (fmt_vec(s) if isinstance(s, (list, tuple)) else fmt_num(s)))
        out.append('      ' + ',\n      '.join(fields))
        out.append('    }' + (',' if li + 1 < len(layers) else ''))
    out.append('  ]' + (',' if domain is not None else ''))
    if domain is not None:
        out.append('  "domain": {"lo": %s, "hi": %s}' % (fmt_vec(domain[0]), fmt_vec(domain[1])))
    out.append('}')
    return "\n".join(out) + "\n"


def write_text(path, text):
    with open(path, "w") as f:
        f.write(text)
    print(f"wrote {os.path.relpath(path, HERE)}")


def linear_json(lin, activation, **extra):
    d = {"weight": lin.weight.detach().double().tolist(),
         "bias": lin.bias.detach().double().tolist(),
         "activation": activation}
    d.update(extra)
    return d


# --------------------------------------------------------------------------- models

def mlp_opset11():
    torch.manual_seed(11)
    return nn.Sequential(
        nn.Linear(3, 8), nn.ReLU(),
        nn.Linear(8, 8), nn.LeakyReLU(0.1),
        nn.Dropout(0.5),
        nn.Linear(8, 2),
    ).eval()


def mlp_opset17():
    torch.manual_seed(17)
    m = nn.Sequential(
        nn.Flatten(),
        nn.Linear(4, 6), nn.ReLU(),
        nn.Linear(6, 6), nn.PReLU(num_parameters=6),
        nn.Linear(6, 3),
    )
    # Default PReLU init is 0.25 for every channel; use distinct slopes so a
    # loader that mis-indexes or broadcasts the slope tensor is caught.
    with torch.no_grad():
        m[4].weight.copy_(torch.tensor([0.05, 0.1, 0.15, 0.2, 0.25, 0.3]))
    return m.eval()


class MatMulMLP(nn.Module):
    """y = relu(relu(x @ W1 + b1) @ W2 + b2) @ W3 + b3, W stored as (in, out)."""

    def __init__(self, sizes=(2, 5, 5, 1)):
        super().__init__()
        self.W = nn.ParameterList()
        self.b = nn.ParameterList()
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            bound = 1.0 / math.sqrt(fan_in)
            self.W.append(nn.Parameter(torch.empty(fan_in, fan_out).uniform_(-bound, bound)))
            self.b.append(nn.Parameter(torch.empty(fan_out).uniform_(-bound, bound)))

    def forward(self, x):
        n = len(self.W)
        for i in range(n):
            x = x @ self.W[i] + self.b[i]
            if i + 1 < n:
                x = torch.relu(x)
        return x


def mlp_matmul():
    torch.manual_seed(13)
    return MatMulMLP().eval()


class Branching(nn.Module):
    """Skip connection: y = l2(relu(l1(x))) + l3(x)."""

    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(2, 4)
        self.l2 = nn.Linear(4, 1)
        self.l3 = nn.Linear(2, 1)

    def forward(self, x):
        h = torch.relu(self.l1(x))
        return self.l2(h) + self.l3(x)


# --------------------------------------------------------------------------- main

def main():
    torch.set_num_threads(1)
    os.makedirs(BAD, exist_ok=True)

    # ---- good ONNX models + io files
    m11 = mlp_opset11()
    p11 = os.path.join(HERE, "torch_mlp_opset11.onnx")
    export(m11, torch.zeros(1, 3), p11, 11)
    write_io(m11, (3,), os.path.join(HERE, "torch_mlp_opset11.io.txt"), seed=111)

    m17 = mlp_opset17()
    export(m17, torch.zeros(1, 2, 2), os.path.join(HERE, "torch_mlp_opset17.onnx"), 17)
    write_io(m17, (2, 2), os.path.join(HERE, "torch_mlp_opset17.io.txt"), seed=117)

    mmm = mlp_matmul()
    export(mmm, torch.zeros(1, 2), os.path.join(HERE, "torch_mlp_matmul.onnx"), 13)
    write_io(mmm, (2,), os.path.join(HERE, "torch_mlp_matmul.io.txt"), seed=113)

    # ---- JSON version of the opset-11 model (dropout dropped; no domain given)
    write_text(os.path.join(HERE, "torch_mlp_opset11.json"), json_text([
        linear_json(m11[0], "relu"),
        linear_json(m11[2], "leaky_relu", negative_slope=m11[3].negative_slope),
        linear_json(m11[5], "none"),
    ]))

    # ---- hand-checkable JSON networks
    write_text(os.path.join(HERE, "tiny_2d.json"), json_text([
        {"weight": [[1, 0], [0, 1]], "bias": [0, 0], "activation": "relu"},
        {"weight": [[1, 1]], "bias": [0], "activation": "none"},
    ], domain=([-1, -1], [1, 1])))
    write_text(os.path.join(HERE, "one_layer_1d.json"), json_text([
        {"weight": [[1], [1], [1]], "bias": [0.5, 0, -0.5], "activation": "relu"},
        {"weight": [[1, -2, 1]], "bias": [0], "activation": "none"},
    ], domain=([-1], [1])))

    # ---- bad ONNX files
    data = open(p11, "rb").read()
    with open(os.path.join(BAD, "truncated.onnx"), "wb") as f:
        f.write(data[: len(data) // 2])
    print("wrote bad/truncated.onnx")
    write_text(os.path.join(BAD, "not_onnx.onnx"), "this is not an onnx model\n")

    torch.manual_seed(21)
    export(nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1)),
           torch.zeros(1, 2), os.path.join(BAD, "sigmoid.onnx"), 13)

    torch.manual_seed(22)
    export(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3), nn.Softmax(dim=1)),
           torch.zeros(1, 2), os.path.join(HERE, "softmax_head.onnx"), 13)

    torch.manual_seed(23)
    export(Branching(), torch.zeros(1, 2), os.path.join(HERE, "skip_connection.onnx"), 13)

    m_nan = copy.deepcopy(m11)
    with torch.no_grad():
        m_nan[2].weight[3, 5] = float("nan")
    export(m_nan, torch.zeros(1, 3), os.path.join(BAD, "nan_weight.onnx"), 11)

    m_inf = copy.deepcopy(m11)
    with torch.no_grad():
        m_inf[2].bias[4] = float("inf")
    export(m_inf, torch.zeros(1, 3), os.path.join(BAD, "inf_bias.onnx"), 11)

    # ---- bad JSON files
    def relu_net(over=None):
        """Valid 2 -> 3 relu -> 2 relu -> 1 network; over[(layer, key)] replaces a field."""
        layers = [
            {"weight": [[1, -0.5], [0.25, 1], [-1, 0.75]], "bias": [0, 0.1, -0.2], "activation": "relu"},
            {"weight": [[0.5, -1, 0.25], [1, 0.5, -0.5]], "bias": [0.3, -0.1], "activation": "relu"},
            {"weight": [[1, -1]], "bias": [0], "activation": "none"},
        ]
        for (li, key), val in (over or {}).items():
            layers[li][key] = val
        return layers

    def bad_net(**kw):
        """bad_net(l1_weight=...) replaces layers[1]["weight"]."""
        return relu_net({(int(k[1]), k.split("_", 1)[1]): v for k, v in kw.items()})

    # layer 0 has 3 outputs but layer 1's weight is 2x2
    write_text(os.path.join(BAD, "weight_shape.json"),
               json_text(bad_net(l1_weight=[[0.5, -1], [1, 0.5]])))
    # layer 1 has 2 outputs but its bias has 3 entries
    write_text(os.path.join(BAD, "bias_length.json"),
               json_text(bad_net(l1_bias=[0.3, -0.1, 0.2])))
    # 1e999 overflows to +inf in every JSON number parser
    write_text(os.path.join(BAD, "inf_weight.json"),
               json_text(bad_net(l1_weight=[[0.5, "1e999", 0.25], [1, 0.5, -0.5]])))
    write_text(os.path.join(BAD, "string_weight.json"),
               json_text(bad_net(l1_weight=[[0.5, '"abc"', 0.25], [1, 0.5, -0.5]])))
    write_text(os.path.join(BAD, "unknown_activation.json"),
               json_text(bad_net(l0_activation="sigmoid")))
    valid = json_text(relu_net(), domain=([-1, -1], [1, 1]))
    write_text(os.path.join(BAD, "truncated.json"), valid[: len(valid) // 2])
    write_text(os.path.join(BAD, "no_layers.json"), '{"layers": []}\n')


if __name__ == "__main__":
    main()
