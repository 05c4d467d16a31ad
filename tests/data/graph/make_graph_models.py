#!/usr/bin/env python3
"""Generate the graph-model fixtures in tests/data/graph/ (next to this script).

Every <name>_opset<N>.onnx here is written by torch.onnx.export (torch 1.13, eval mode, input
"input" with a dynamic batch axis, output "output"), for one operator or one pattern of
issue 9. Beside each model, <name>_opset<N>.io.txt holds 20 seeded inputs (uniform in [-1, 1]) and
the outputs of the same PyTorch module evaluated in float64 (model.double() after the export, so
the float32 weights of the file are used exactly): first line "# inputs <n> outputs <m>", then one
line per sample, the flattened (row-major) input then the output, "%.17g". A float64 forward pass
of the ONNX file must reproduce them to about 1e-12 relative to the largest output.

Models made with folding=False keep their BatchNormalization nodes (exported with
TrainingMode.PRESERVE on a module in eval mode; the default EVAL export fuses them into the Conv).

The bad/ models each have one defect that the loader must refuse with a clear message.

Rerun (Debian's python has torch/onnx; the `python3` on some PATHs does not):
    /usr/bin/python3 tests/data/graph/make_graph_models.py
Deterministic: each module is built right after torch.manual_seed(<fixed seed>).
"""
import os
import warnings

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
BAD = os.path.join(HERE, "bad")
N_SAMPLES = 20
warnings.filterwarnings("ignore")
torch.set_num_threads(1)


def randomize_batchnorm(model, seed):
    """Non-trivial running statistics and affine parameters, so that folding them matters."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = m.num_features
            with torch.no_grad():
                m.running_mean.copy_(torch.rand(n, generator=g) - 0.5)
                m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
                m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.copy_(torch.rand(n, generator=g) - 0.5)


def export(model, in_shape, name, opset, folding=True, dynamic=None, directory=HERE):
    model.eval()
    path = os.path.join(directory, f"{name}.onnx")
    torch.onnx.export(model, torch.zeros(1, *in_shape), path, opset_version=opset,
                      input_names=["input"], output_names=["output"], do_constant_folding=folding,
                      # PRESERVE keeps BatchNormalization as a node (EVAL fuses it into the Conv)
                      training=torch.onnx.TrainingMode.EVAL if folding else torch.onnx.TrainingMode.PRESERVE,
                      dynamic_axes=dynamic or {"input": {0: "batch"}, "output": {0: "batch"}})
    onnx.checker.check_model(onnx.load(path))
    return path


def write_io(model, in_shape, name, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(N_SAMPLES, *in_shape))
    double = model.double().eval()
    with torch.no_grad():
        y = double(torch.from_numpy(x)).numpy().reshape(N_SAMPLES, -1)
    model.float()
    x = x.reshape(N_SAMPLES, -1)
    with open(os.path.join(HERE, f"{name}.io.txt"), "w") as f:
        f.write(f"# inputs {x.shape[1]} outputs {y.shape[1]}\n")
        for xi, yi in zip(x, y):
            f.write(" ".join("%.17g" % v for v in list(xi) + list(yi)) + "\n")


def points_csv(stem, n):
    """The first n stored inputs of <stem>.io.txt as <stem>.points.csv, for --points/--plane/--line."""
    with open(os.path.join(HERE, f"{stem}.io.txt")) as f:
        d = int(f.readline().split()[2])
        rows = [line.split()[:d] for line, _ in zip(f, range(n))]
    with open(os.path.join(HERE, f"{stem}.points.csv"), "w") as f:
        f.writelines(",".join(r) + "\n" for r in rows)


def make(name, build, in_shape, opsets=(11, 13, 17), seed=0, folding=True):
    for opset in opsets:
        torch.manual_seed(seed)
        model = build()
        randomize_batchnorm(model, seed)
        stem = f"{name}_opset{opset}"
        export(model, in_shape, stem, opset, folding)
        write_io(model, in_shape, stem, seed + opset)
        print("wrote", stem)


# ------------------------------------------------------------------------------------- modules

class Residual(nn.Module):
    """x + relu(W x + b), then an affine head: the skip value is carried past the ReLU layer."""
    def __init__(self):
        super().__init__()
        self.inner, self.out = nn.Linear(3, 3), nn.Linear(3, 2)

    def forward(self, x):
        return self.out(x + torch.relu(self.inner(x)))


class SmallCnn(nn.Module):
    """Conv2d, BatchNorm2d, ReLU, MaxPool2d, a residual block, flattened by x.view(x.size(0), -1)
    (the Shape/Gather/Unsqueeze/Concat chain) into a Linear."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3, padding=1)
        self.bn = nn.BatchNorm2d(3)
        self.pool = nn.MaxPool2d(2)
        self.block = nn.Conv2d(3, 3, 3, padding=1, bias=False)
        self.block_bn = nn.BatchNorm2d(3)
        self.fc = nn.Linear(3 * 3 * 3, 4)

    def forward(self, x):
        y = self.pool(torch.relu(self.bn(self.conv(x))))
        y = torch.relu(y + self.block_bn(self.block(y)))
        return self.fc(y.view(y.size(0), -1))


class ConvVariants(nn.Module):
    """Strides, dilations, groups and asymmetric padding."""
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(2, 4, (3, 2), stride=(2, 1), padding=(1, 0))
        self.b = nn.Conv2d(4, 4, 3, dilation=2, groups=2, padding=2)
        self.c = nn.Conv2d(4, 2, 1, stride=2)

    def forward(self, x):
        return self.c(F.leaky_relu(self.b(torch.relu(self.a(x))), 0.25)).flatten(1)


class Conv1dNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 3, 3, stride=2, padding=1)
        self.prelu = nn.PReLU(3, init=0.1)
        self.pool = nn.MaxPool1d(3, stride=2, padding=1)
        self.avg = nn.AvgPool1d(2)
        self.fc = nn.Linear(3 * 1, 2)
        with torch.no_grad():
            self.prelu.weight.copy_(torch.tensor([0.1, -0.2, 0.3]))

    def forward(self, x):
        return self.fc(torch.flatten(self.avg(self.pool(self.prelu(self.conv(x)))), 1))


class Pools(nn.Module):
    """AveragePool with count_include_pad both ways, GlobalAveragePool (AdaptiveAvgPool2d(1))."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 2)
        self.inc = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=True)
        self.exc = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.gap = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        y = torch.relu(self.conv(x))
        return torch.cat([self.inc(y).flatten(1), self.exc(y).flatten(1), self.gap(y).flatten(1)], 1)


class Clips(nn.Module):
    """Hardtanh, ReLU6, clamp(min=0) (a ReLU), clamp(max=0.25), clamp(min=-0.5) in parallel
    (bounds exact in float32, so that the float64 truth uses the same numbers as the file)."""
    def __init__(self):
        super().__init__()
        self.l1, self.l2 = nn.Linear(2, 10), nn.Linear(10, 2)

    def forward(self, x):
        z = 3 * self.l1(x)
        a, b, c, d, e = torch.split(z, 2, dim=1)
        return self.l2(torch.cat([F.hardtanh(a), F.relu6(b), torch.clamp(c, min=0), torch.clamp(d, max=0.25),
                                  torch.clamp(e, min=-0.5)], 1))


class Elementwise(nn.Module):
    """Max of two branches, Sub/Mul/Div by constants, 1 - x, Pad, Slice, Transpose, Squeeze,
    Unsqueeze, Gather (x[:, 2]) and Concat."""
    def __init__(self):
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(4, 6), nn.Linear(4, 6), nn.Linear(9, 3)

    def forward(self, x):
        m = torch.maximum(self.l1(x), self.l2(x))          # Max
        y = (m - 0.25) * 2.0 / 3.0                         # Sub, Mul, Div
        y = 1.0 - y                                        # Sub from a constant
        p = F.pad(y.unsqueeze(1), (1, 2), value=0.5)       # Unsqueeze, Pad -> [b, 1, 9]
        p = p.squeeze(1)[:, 1:8]                           # Squeeze, Slice -> [b, 7]
        t = p.view(-1, 7, 1).transpose(1, 2).reshape(-1, 7)  # Transpose
        g = x[:, 2].unsqueeze(1)                           # Gather
        return self.l3(torch.cat([torch.relu(t), g, x[:, :1]], 1))


class HeadMlp(nn.Module):
    def __init__(self, head):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 3))
        self.head = head

    def forward(self, x):
        return self.head(self.body(x))


class ChannelSoftmaxCnn(nn.Module):
    """A softmax over the channels of an image (a segmentation head). At opset 11 PyTorch writes it as
    Transpose, Softmax over the last axis, Transpose back; the head is still the last computation."""
    def __init__(self, head=True):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.Conv2d(3, 2, 1))
        self.head = nn.Softmax(dim=1) if head else nn.Identity()

    def forward(self, x):
        return self.head(self.body(x))


def channel_softmax():
    """channel_softmax_head_opset<N>.onnx; its .io.txt holds the logits (the body's outputs), which
    are what relutope's forward pass gives for a model with a head."""
    for opset in (11, 13):
        torch.manual_seed(10)
        model = ChannelSoftmaxCnn()
        stem = f"channel_softmax_head_opset{opset}"
        export(model, (1, 4, 4), stem, opset)
        model.head = nn.Identity()
        write_io(model, (1, 4, 4), stem, 10 + opset)
        print("wrote", stem)


class DoubleInput(nn.Module):
    def forward(self, x, w):
        return torch.relu(F.conv2d(x, w))


# ------------------------------------------------------------------ equivalences (same regions)

class HardtanhMlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1, self.l2 = nn.Linear(2, 6), nn.Linear(6, 2)

    def forward(self, x):
        return self.l2(F.hardtanh(2 * self.l1(x)))


class HardtanhByRelus(nn.Module):
    """hardtanh(z) = relu(z + 1) - relu(z - 1) - 1, written with plain Linear and ReLU layers."""
    def __init__(self, m):
        super().__init__()
        w, b = 2 * m.l1.weight.detach().double(), 2 * m.l1.bias.detach().double()
        self.l1 = nn.Linear(2, 12).double()
        self.l2 = nn.Linear(12, 2).double()
        with torch.no_grad():
            self.l1.weight.copy_(torch.cat([w, w]))
            self.l1.bias.copy_(torch.cat([b + 1, b - 1]))
            w2, b2 = m.l2.weight.detach().double(), m.l2.bias.detach().double()
            self.l2.weight.copy_(torch.cat([w2, -w2], 1))
            self.l2.bias.copy_(b2 - w2.sum(1))

    def forward(self, x):
        return self.l2(torch.relu(self.l1(x)))


class MaxMlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.c, self.out = nn.Linear(2, 4), nn.Linear(2, 4), nn.Linear(4, 4), nn.Linear(4, 1)

    def forward(self, x):
        return self.out(torch.relu(self.c(torch.maximum(self.a(x), self.b(x)))))


class MaxByRelu(nn.Module):
    """max(a, b) = a + relu(b - a): a is carried past the ReLU layer as linear rows."""
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        a = self.m.a(x)
        return self.m.out(torch.relu(self.m.c(a + torch.relu(self.m.b(x) - a))))


def export_double(model, in_shape, name):
    model.double().eval()
    torch.onnx.export(model, torch.zeros(1, *in_shape, dtype=torch.float64), os.path.join(HERE, f"{name}.onnx"),
                      opset_version=13, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    print("wrote", name)


def equivalences():
    """Pairs that must have exactly the same regions (checked by counts in tests/graph_test.cpp)."""
    # BatchNorm folded by hand, in float64, against bn1d_mlp_opset13.onnx (same seed, same statistics).
    torch.manual_seed(2)
    m = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))
    randomize_batchnorm(m, 2)
    m.eval().double()
    lin, bn = m[0], m[1]
    s = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    folded = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2)).double()
    with torch.no_grad():
        folded[0].weight.copy_(lin.weight * s[:, None])
        folded[0].bias.copy_((lin.bias - bn.running_mean) * s + bn.bias)
        folded[2].load_state_dict(m[3].state_dict())
    export_double(folded, (3,), "bn1d_mlp_folded_by_hand")

    # x + relu(W1 x + b1) is relu(W1 x + b1) + relu(x) where x > 0: the wider MLP [W1; I], [W2, W2] has the
    # same regions as residual_mlp_opset13.onnx in the box [0.1, 1]^3.
    torch.manual_seed(1)
    r = Residual()
    wide = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Linear(6, 2)).double()
    with torch.no_grad():
        wide[0].weight.copy_(torch.cat([r.inner.weight.double(), torch.eye(3, dtype=torch.float64)]))
        wide[0].bias.copy_(torch.cat([r.inner.bias.double(), torch.zeros(3, dtype=torch.float64)]))
        wide[2].weight.copy_(torch.cat([r.out.weight.double(), r.out.weight.double()], 1))
        wide[2].bias.copy_(r.out.bias.double())
    export_double(wide, (3,), "residual_mlp_as_wider_mlp")

    torch.manual_seed(30)
    h = HardtanhMlp()
    export(h, (2,), "hardtanh_mlp", 13)
    export_double(HardtanhByRelus(h), (2,), "hardtanh_by_relus")

    torch.manual_seed(31)
    mm = MaxMlp()
    export(mm, (2,), "max_mlp", 13)
    export(MaxByRelu(mm), (2,), "max_by_relu", 13)

    # The body of softmax_head_opset13.onnx without its head.
    torch.manual_seed(9)
    export(HeadMlp(nn.Identity()), (2,), "softmax_head_body", 13)


def main():
    os.makedirs(BAD, exist_ok=True)
    make("residual_mlp", Residual, (3,), seed=1)
    make("bn1d_mlp", lambda: nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2)), (3,),
         seed=2, folding=False)
    make("small_cnn", SmallCnn, (1, 6, 6), seed=3, folding=False)
    make("conv_variants", ConvVariants, (2, 7, 5), opsets=(13,), seed=4)
    make("conv1d", Conv1dNet, (2, 6), opsets=(11, 17), seed=5)
    make("pools", Pools, (1, 6, 6), opsets=(11, 17), seed=6)
    make("clips", Clips, (2,), seed=7)
    make("elementwise", Elementwise, (4,), seed=8)
    make("softmax_head", lambda: HeadMlp(nn.Softmax(dim=1)), (2,), opsets=(13,), seed=9)
    points_csv("small_cnn_opset13", 3)
    # The same CNN exported the default way: PyTorch fuses each BatchNorm into the Conv before it.
    make("small_cnn_fused", SmallCnn, (1, 6, 6), opsets=(13,), seed=3)
    channel_softmax()
    equivalences()

    # ---- bad models: one defect each
    class AbsNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.l = nn.Linear(2, 3)
        def forward(self, x):
            return self.l(x).abs()
    torch.manual_seed(21)
    export(AbsNet(), (2,), "unsupported_abs", 13, directory=BAD)
    torch.manual_seed(22)
    export(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()), (1, 5, 5), "dynamic_height", 13, directory=BAD,
           dynamic={"input": {0: "batch", 2: "height"}, "output": {0: "batch"}})
    torch.manual_seed(23)
    export(nn.Sequential(nn.Conv2d(1, 2, 2), nn.MaxPool2d(2, ceil_mode=True)), (1, 6, 6), "maxpool_ceil_mode", 13,
           directory=BAD)
    torch.manual_seed(24)
    # 4,096 inputs and 32,768 values after the Conv: the first dense layer alone would take 1 GB.
    export(nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(8, 1)),
           (1, 64, 64), "too_large_for_dense", 13, directory=BAD)
    # Hand-built (onnx.helper): an Expand to 10^10 values must be refused before anything is allocated.
    from onnx import TensorProto, helper
    graph = helper.make_graph(
        [helper.make_node("Expand", ["input", "shape"], ["output"], name="expand_huge")], "huge_expand",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, None)],
        [helper.make_tensor("shape", TensorProto.INT64, [3], [50000, 50000, 4])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(BAD, "huge_expand.onnx"))
    # Hand-built: a Transpose whose perm names an axis twice is not a transpose (the ONNX checker
    # refuses it too); it must be refused, not read as some other index map.
    graph = helper.make_graph(
        [helper.make_node("Transpose", ["input"], ["output"], name="transpose_repeated", perm=[1, 1])], "repeated_perm",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, None)])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(BAD, "transpose_repeated_axis.onnx"))
    # Hand-built: a Transpose that writes the value it reads (not SSA; the ONNX checker refuses it),
    # after a Softmax: the search for the graph's output past the head must end, with an error.
    graph = helper.make_graph(
        [helper.make_node("Relu", ["input"], ["h"], name="relu"),
         helper.make_node("Softmax", ["h"], ["y"], name="softmax"),
         helper.make_node("Transpose", ["y"], ["y"], name="transpose_onto_itself", perm=[0, 1]),
         helper.make_node("Relu", ["h"], ["output"], name="relu_out")], "head_cycle",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, None)])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(BAD, "head_cycle.onnx"))
    write_reassignment_models()
    write_budget_models()
    model = DoubleInput().eval()
    torch.onnx.export(model, (torch.zeros(1, 1, 4, 4), torch.zeros(2, 1, 3, 3)), os.path.join(BAD, "conv_weight_input.onnx"),
                      opset_version=13, input_names=["input", "weight"], output_names=["output"])
    print("wrote bad/")


def write_reassignment_models():
    """Hand-built: files that write a value twice (not SSA), which the loader refuses before reading a node.
    Run alone: python3 -c 'import make_graph_models as m; m.write_reassignment_models()'."""
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["input"], ["h"], name="relu_a"),
         helper.make_node("Neg", ["input"], ["h"], name="neg_b"),
         helper.make_node("Relu", ["h"], ["output"], name="relu_out")], "written_twice",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, None)])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(BAD, "value_written_twice.onnx"))
    graph = helper.make_graph(
        [helper.make_node("Relu", ["input"], ["weight"], name="relu_over_weight"),
         helper.make_node("MatMul", ["weight", "weight"], ["output"], name="matmul")], "initializer_written",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.ones((2, 2), dtype=np.float32), "weight")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(BAD, "initializer_written.onnx"))


def write_budget_models():
    """Hand-built: small files whose every tensor is under the per-tensor limit but whose totals are not (the
    fuzzer's slow inputs). Run alone: python3 -c 'import make_graph_models as m; m.write_budget_models()'."""
    from onnx import TensorProto, helper, numpy_helper

    def constant(name, values):
        return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.array(values, dtype=np.int64)))

    # Folding: a 1024 x 1024 constant of ones added to itself, again and again (a million values each).
    nodes = [constant("shape", [1024, 1024]),
             helper.make_node("ConstantOfShape", ["shape"], ["c0"],
                              value=numpy_helper.from_array(np.array([1.0], dtype=np.float32)))]
    nodes += [helper.make_node("Add", [f"c{i}", f"c{i}"], [f"c{i + 1}"], name=f"add_{i}") for i in range(4)]
    nodes += [helper.make_node("Gemm", ["input", "weight"], ["hidden"]), helper.make_node("Relu", ["hidden"], ["output"])]
    graph = helper.make_graph(nodes, "fold_chain", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 2])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 2])],
                              [numpy_helper.from_array(np.ones((2, 2), dtype=np.float32), "weight")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(BAD, "fold_chain.onnx"))
    # The graph: the input spread to 4 million values, then ReLUs of it, each node under the per-tensor limit.
    nodes = [constant("s1", [1, 4, 1]), constant("s2", [1, 4, 1048576]),
             helper.make_node("Reshape", ["input", "s1"], ["r"]), helper.make_node("Expand", ["r", "s2"], ["e0"])]
    nodes += [helper.make_node("Relu", [f"e{i}"], [f"e{i + 1}"], name=f"relu_{i}") for i in range(17)]
    graph = helper.make_graph(nodes, "graph_values", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("e17", TensorProto.FLOAT, None)])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(BAD, "graph_values.onnx"))
    # An index map of 16 million entries (an Expand of the input), refused before it is built: it used to take
    # 400 MB and 3 s of the fuzz build before a later node passed the graph's budget.
    nodes = [constant("s1", [1, 4, 1]), constant("s2", [1, 4, 4194304]),
             helper.make_node("Reshape", ["input", "s1"], ["r"]),
             helper.make_node("Expand", ["r", "s2"], ["e"], name="expand_big"),
             helper.make_node("Relu", ["e"], ["output"])]
    graph = helper.make_graph(nodes, "index_map", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, None)])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(BAD, "index_map_entries.onnx"))
    # A constant of 16 million values (ConstantOfShape), over the folding budget: refused before it is filled.
    nodes = [constant("shape", [4096, 4096]),
             helper.make_node("ConstantOfShape", ["shape"], ["c"], name="fill",
                              value=numpy_helper.from_array(np.array([1.0], dtype=np.float32))),
             helper.make_node("Add", ["input", "c"], ["output"])]
    graph = helper.make_graph(nodes, "constant_of_shape", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4096])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, None)])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), os.path.join(BAD, "constant_of_shape.onnx"))


if __name__ == "__main__":
    main()
