#!/usr/bin/env python3
"""Writes the loader fixtures of issue 8 (strict inputs): JSON models with a misspelt or missing key, ONNX
exports with external data, training-mode Dropout, float16 weights or an output head, ONNX files that declare
more data than they hold, malformed points files (CSV, .npy) and polytope domains. Each file in bad/ has one
defect; tests/data/README.md lists them and tests/io_test.cpp / slice_test.cpp check the messages.

Rerun (Debian's python3-torch, python3-onnx, python3-numpy):
    /usr/bin/python3 tests/data/make_loader_inputs.py
Deterministic: fixed seeds, torch single-threaded.
"""
import json
import os
import struct
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
BAD = os.path.join(HERE, "bad")
warnings.filterwarnings("ignore")  # torch.onnx export chatter


def write_text(name, text):
    path = os.path.join(HERE, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    print("wrote", name)


def write_bytes(name, data):
    path = os.path.join(HERE, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    print("wrote", name)


# ------------------------------------------------------------------------------------------ JSON models

def relu3(changes=None):
    """2 -> 3 relu -> 2 relu -> 1: three layers; changes[(l, key)] = value (None deletes the key)."""
    layers = [
        {"weight": [[1, -0.5], [0.25, 1], [-1, 0.5]], "bias": [0.1, -0.2, 0.3], "activation": "relu"},
        {"weight": [[0.5, -1, 0.25], [1, 0.5, -0.5]], "bias": [0, 0.1], "activation": "relu"},
        {"weight": [[1, -1]], "bias": [0], "activation": "none"},
    ]
    for (l, key), value in (changes or {}).items():
        if value is None:
            del layers[l][key]
        else:
            layers[l][key] = value
    return layers


def layers_text(layers, **top):
    doc = {"layers": layers}
    doc.update(top)
    return json.dumps(doc, indent=1) + "\n"


def rename(layers, l, old, new):
    layers[l] = {(new if k == old else k): v for k, v in layers[l].items()}
    return layers


def json_models():
    # Before issue 8 each of these loaded as a different network, with exit 0.
    write_text("bad/missing_activation.json", layers_text(relu3({(0, "activation"): None})))
    write_text("bad/misspelt_activation_key.json", layers_text(rename(relu3(), 1, "activation", "activaton")))
    slope = relu3({(1, "activation"): "leaky_relu"})
    slope[1]["slope"] = 0.2
    write_text("bad/slope_key.json", layers_text(slope))
    write_text("bad/unknown_top_key.json", layers_text(relu3(), domian={"lo": [-1, -1], "hi": [1, 1]}))
    write_text("softmax_head.json", layers_text(relu3({(2, "activation"): "softmax"})))
    write_text("bad/relu_with_slope.json", layers_text(relu3({(0, "negative_slope"): 0.1})))
    # json.dumps cannot repeat a key: write layers[1] by hand with "activation" twice.
    text = layers_text(relu3())
    text = text.replace('"activation": "relu"\n  },\n  {\n   "weight": [\n    [\n     0.5',
                        '"activation": "relu"\n  },\n  {\n   "activation": "none",\n   "weight": [\n    [\n     0.5', 1)
    assert text.count('"activation"') == 4
    write_text("bad/duplicate_key.json", text)


# ------------------------------------------------------------------------------------------ ONNX models

def torch_export(model, example, opset=13, training=False):
    """torch.onnx.export to an in-memory ModelProto (input "input", output "output", dynamic batch)."""
    import io
    import onnx
    import torch
    buffer = io.BytesIO()
    model.train(training)
    torch.onnx.export(model, example, buffer, opset_version=opset,
                      training=torch.onnx.TrainingMode.TRAINING if training else torch.onnx.TrainingMode.EVAL,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    model.eval()
    return onnx.load_from_string(buffer.getvalue())


def save(model, name, **kwargs):
    import onnx
    path = os.path.join(HERE, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if "location" in kwargs and os.path.exists(os.path.join(os.path.dirname(path), kwargs["location"])):
        os.remove(os.path.join(os.path.dirname(path), kwargs["location"]))  # onnx appends to an existing file
    onnx.save_model(model, path, **kwargs)
    print("wrote", name)


def write_io(name, inputs, outputs):
    """The .io.txt format of tests/data/README.md: a header, then per line the inputs and the outputs."""
    lines = ["# inputs %d outputs %d" % (inputs.shape[1], outputs.shape[1])]
    for x, y in zip(inputs, outputs):
        lines.append(" ".join("%.17g" % float(v) for v in list(x) + list(y)))
    write_text(name, "\n".join(lines) + "\n")


def mlp():
    """3 -> 8 relu -> 8 relu -> 2, seeded."""
    import torch
    from torch import nn
    torch.manual_seed(8)
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2)).eval()


def samples(model, seed):
    import torch
    x = np.random.default_rng(seed).uniform(-1, 1, (20, 3)).astype(np.float32)
    with torch.no_grad():
        return x, model(torch.from_numpy(x)).numpy()


def initializer(model, name):
    return next(t for t in model.graph.initializer if t.name == name)


def onnx_heads():
    """Defect 8: a smooth output head after the last Linear (Softmax is softmax_head.onnx). Refused
    before issue 9; now accepted and recorded as Network::output_head."""
    import torch
    from torch import nn
    for name, head in [("sigmoid_head", nn.Sigmoid()), ("tanh_head", nn.Tanh()), ("log_softmax_head", nn.LogSoftmax(dim=1))]:
        torch.manual_seed(3)
        model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3), head)
        save(torch_export(model, torch.zeros(1, 2)), "%s.onnx" % name)


def onnx_dropout():
    """Defect 6: Dropout exported in training mode has a BOOL training_mode input set to true."""
    import onnx
    import torch
    from onnx import numpy_helper
    from torch import nn
    torch.manual_seed(6)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4, 2))
    for opset in (13, 17):
        save(torch_export(model, torch.zeros(1, 3), opset=opset, training=True), "bad/dropout_training_opset%d.onnx" % opset)
    # The same export with training_mode switched to false: Dropout is then the identity.
    proto = torch_export(model, torch.zeros(1, 3), opset=13, training=True)
    dropout = next(n for n in proto.graph.node if n.op_type == "Dropout")
    mode = next(n for n in proto.graph.node if n.op_type == "Constant" and n.output[0] == dropout.input[2])
    mode.attribute[0].t.CopyFrom(numpy_helper.from_array(np.array(False), mode.attribute[0].t.name))
    onnx.checker.check_model(proto)
    save(proto, "dropout_mode_false.onnx")
    x = np.random.default_rng(61).uniform(-1, 1, (20, 3)).astype(np.float32)
    with torch.no_grad():
        write_io("dropout_mode_false.io.txt", x, model.eval()(torch.from_numpy(x)).numpy())


def onnx_external():
    """Defect 5: onnx.save_model(..., save_as_external_data=True), the usual form of large models."""
    import copy
    import torch
    model = mlp()
    proto = torch_export(model, torch.zeros(1, 3))
    save(copy.deepcopy(proto), "external/mlp_external.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
         location="mlp_external.onnx.data", size_threshold=0)
    x, y = samples(model, 55)
    write_io("external/mlp_external.io.txt", x, y)

    def external(name, location, truncate=None):
        copy_ = copy.deepcopy(proto)
        save(copy_, "bad/" + name, save_as_external_data=True, all_tensors_to_one_file=True,
             location=name + ".data", size_threshold=0)
        data = os.path.join(BAD, name + ".data")
        if truncate is not None:
            with open(data, "rb") as f:
                content = f.read()
            write_bytes("bad/" + name + ".data", content[:truncate(len(content))])
        else:
            os.remove(data)
        if location is not None:  # point every tensor at another file
            import onnx
            saved = onnx.load(os.path.join(BAD, name), load_external_data=False)
            for t in saved.graph.initializer:
                for entry in t.external_data:
                    if entry.key == "location":
                        entry.value = location
            save(saved, "bad/" + name)

    external("external_missing.onnx", None)                                  # the .data file is not there
    external("external_escape.onnx", "../external/mlp_external.onnx.data")   # it exists, but outside bad/
    external("external_absolute.onnx", "/tmp/mlp_external.onnx.data")        # an absolute path
    external("external_truncated.onnx", None, truncate=lambda n: n // 2)     # half of the bytes


def onnx_types_and_sizes():
    """float16 weights load; other data types are named; sizes are checked against the data present."""
    import copy
    import onnx
    import torch
    from onnx import TensorProto, helper, numpy_helper
    model = mlp()
    proto = torch_export(model, torch.zeros(1, 3))

    # float16: every initializer converted (as onnxconverter-common's float16 conversion does), and the
    # input/output too. The samples are the float16 weights evaluated in float64.
    half = copy.deepcopy(proto)
    weights = {}
    for t in half.graph.initializer:
        value = numpy_helper.to_array(t).astype(np.float16)
        weights[t.name] = value.astype(np.float64)
        t.CopyFrom(numpy_helper.from_array(value, t.name))
    for value in list(half.graph.input) + list(half.graph.output):
        value.type.tensor_type.elem_type = TensorProto.FLOAT16
    onnx.checker.check_model(half)
    save(half, "mlp_float16.onnx")
    x = np.random.default_rng(16).uniform(-1, 1, (20, 3)).astype(np.float16).astype(np.float64)
    h = x
    for i, layer in enumerate(["0", "2", "4"]):
        h = h @ weights[layer + ".weight"].T + weights[layer + ".bias"]
        if i < 2:
            h = np.maximum(h, 0)
    write_io("mlp_float16.io.txt", x, h)

    def variant(name, change):
        bad = copy.deepcopy(proto)
        change(bad)
        save(bad, "bad/" + name)

    def complex_weight(m):
        t = initializer(m, "2.weight")
        t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.complex64), t.name))
    variant("complex_weight.onnx", complex_weight)

    def declare(dims, data=b"\0" * 64):
        def change(m):
            t = initializer(m, "2.weight")
            del t.dims[:]
            t.dims.extend(dims)
            t.raw_data = data
        return change
    variant("dims_overflow.onnx", declare([1 << 33, 1 << 33]))         # the product overflows int64
    variant("huge_declared.onnx", declare([100000, 100000]))            # 40 GB declared, 64 bytes there
    variant("negative_dim.onnx", declare([8, -8]))

    def huge_input(m):
        # The input declares 200,000 features (the first Gemm takes 3): the loader started from a
        # 200,000 x 200,000 identity, 320 GB.
        m.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 200000
    variant("huge_input.onnx", huge_input)

    # A bias of shape [5, 1] broadcasts across the batch, not along the features: (batch, 5) + (5, 1) is
    # (5, 5) for a batch of one. It was read as the bias [5].
    matmul = onnx.load(os.path.join(HERE, "torch_mlp_matmul.onnx"))
    b0 = initializer(matmul, "b.0")
    b0.dims[:] = [5, 1]
    save(matmul, "bad/bias_across_batch.onnx")

    # External data that declares 40 GB in a file of a few bytes.
    bad = copy.deepcopy(proto)
    t = initializer(bad, "2.weight")
    del t.dims[:]
    t.dims.extend([100000, 100000])
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    for key, value in [("location", "huge_external.onnx.data"), ("offset", "0"), ("length", str(100000 * 100000 * 4))]:
        entry = t.external_data.add()
        entry.key, entry.value = key, value
    save(bad, "bad/huge_external.onnx")
    write_bytes("bad/huge_external.onnx.data", b"\0" * 256)


# ------------------------------------------------------------------------------------------ points and domains

def npy_bytes(descr, shape_text, data, version=(1, 0), header_len=None):
    """A .npy file written by hand, for headers numpy itself would not write."""
    header = "{'descr': %s, 'fortran_order': False, 'shape': %s, }" % (descr, shape_text)
    header += " " * ((64 - (len(header) + 11) % 64) % 64) + "\n"
    length = len(header) if header_len is None else header_len
    size = struct.pack("<H", length) if version[0] == 1 else struct.pack("<I", length)
    return b"\x93NUMPY" + bytes(version) + size + header.encode("latin1") + data


def npy(name, array):
    import io
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=True)
    write_bytes(name, buffer.getvalue())


def points():
    x = np.random.default_rng(9).uniform(-1, 1, (5, 3))
    # valid: the same points in Fortran order, big-endian, float32 and as integers
    npy("points.npy", x)
    npy("points_fortran.npy", np.asfortranarray(x))
    npy("points_big_endian.npy", x.astype(">f8"))
    write_text("points.csv", "\n".join(",".join(repr(float(v)) for v in row) for row in x) + "\n")
    # bad
    write_text("bad/points_nan.csv", "x,y\n1,2\nnan,3\n")
    write_text("bad/points_empty_field.csv", "1,,2\n3,,4\n")        # was read as 2 columns
    write_text("bad/points_half_header.csv", "1,2,x\n3,4,5\n6,7,8\n")  # the first row was dropped as a header
    npy("bad/points_nan.npy", np.array([[0.0, 1.0], [np.nan, 2.0]]))
    npy("bad/points_3d.npy", np.zeros((2, 2, 2)))
    npy("bad/points_complex.npy", np.zeros((2, 2), dtype=np.complex128))
    npy("bad/points_object.npy", np.array([[1, "a"], [2, "b"]], dtype=object))
    full = np.zeros((4, 2))
    import io
    buffer = io.BytesIO()
    np.save(buffer, full)
    write_bytes("bad/points_truncated.npy", buffer.getvalue()[:-5])
    # shapes and header lengths that would need terabytes
    write_bytes("bad/points_huge_shape.npy", npy_bytes("'<f8'", "(1000000000000, 1000000000000)", b"\0" * 16))
    write_bytes("bad/points_huge_header.npy", npy_bytes("'<f8'", "(1, 2)", b"\0" * 16, version=(2, 0), header_len=0xFFFFFFF0))
    write_bytes("bad/points_structured.npy", npy_bytes("[('x', '<f8'), ('y', '<f8')]", "(2,)", b"\0" * 32))
    # found by fuzzing (tests/fuzz, points_npy): a header without 'shape' and a shape that is not numbers both
    # ended in std::stol's exception (exit 3, "internal error: stol"). The misspelt key keeps the header's length.
    write_bytes("bad/points_no_shape.npy",
                npy_bytes("'<f8'", "(1, 2)", b"\0" * 16).replace(b"'shape': (1, 2)", b"'sahpe': (1, 2)"))
    write_bytes("bad/points_shape_not_numbers.npy", npy_bytes("'<f8'", "(two, 2)", b"\0" * 32))


def domains():
    square = {"A": [[1, 0], [-1, 0], [0, 1], [0, -1]], "b": [1, 1, 1, 1]}
    write_text("bad/domain_unknown_key.json", json.dumps({"A": square["A"], "B": square["b"]}) + "\n")
    write_text("bad/domain_empty.json", json.dumps({"A": [], "b": []}) + "\n")
    write_text("bad/domain_zero_columns.json", json.dumps({"A": [[]], "b": [1]}) + "\n")
    write_text("bad/domain_string.json", json.dumps({"A": [[1, 0], [-1, "0"]], "b": [1, 1]}) + "\n")
    write_text("bad/domain_nan.json", '{"A": [[1, 0], [-1, 0], [0, 1], [0, -1]], "b": [1, 1, NaN, 1]}\n')
    write_text("bad/domain_lo_only.json", json.dumps(dict(square, lo=[-1, -1])) + "\n")


def main():
    import torch
    torch.set_num_threads(1)
    json_models()
    onnx_heads()
    onnx_dropout()
    onnx_external()
    onnx_types_and_sizes()
    points()
    domains()


if __name__ == "__main__":
    main()
