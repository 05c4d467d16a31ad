#!/usr/bin/python3
"""Small graph networks for the segment walker's tests (tests/segment_walk_test.cpp).

Run with Debian's python3 (torch): /usr/bin/python3 make_segment_models.py
Writes, next to this script:
  cnn_residual.onnx  Conv2d-BatchNorm-ReLU-MaxPool(2) -> residual block (Conv-BN-ReLU-Conv + skip) ->
                     ReLU -> Hardtanh branch -> Flatten -> Linear(., 5), input 1x1x8x8, opset 13
  cnn_pool3.onnx     Conv2d-ReLU-MaxPool(3, stride 2, pad 1) (overlapping windows, as ResNet's stem)
                     -> Conv2d-ReLU6 -> GlobalAveragePool -> Linear, input 1x2x9x9, opset 13
  points.npy         8 inputs (rows) to draw segments between, float64, shape (8, 162): all columns
                     for cnn_pool3, the first 64 for cnn_residual
  points_64x64.npy   3 inputs of 1x64x64 (float32) for tests/data/graph/bad/too_large_for_dense.onnx,
                     which count walks along a segment because its dense layers would not fit
Weights are random with a fixed seed; BatchNorm statistics are made non-trivial first.
"""
import numpy as np
import torch
from torch import nn

torch.manual_seed(7)


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2))
        self.block = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1))
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(4, 2, 1), nn.Hardtanh(), nn.Flatten(), nn.Linear(32, 5))

    def forward(self, x):
        h = self.stem(x)
        return self.head(h + self.block(h))


class Pool3(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1),
                                  nn.Conv2d(3, 4, 3, padding=1), nn.ReLU6(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(4, 3))

    def forward(self, x):
        return self.body(x)


def settle_batchnorm(model, shape):
    model.train()
    with torch.no_grad():
        for _ in range(5):
            model(torch.randn(16, *shape) * 2 + 0.5)
    model.eval()


def export(model, shape, name):
    torch.onnx.export(model, torch.randn(1, *shape), name, opset_version=13, input_names=["x"], output_names=["y"])


residual = Residual()
settle_batchnorm(residual, (1, 8, 8))
export(residual, (1, 8, 8), "cnn_residual.onnx")
pool3 = Pool3().eval()
for p in pool3.parameters():  # ReLU6 saturates only when pre-activations reach 6
    p.data *= 3
export(pool3, (2, 9, 9), "cnn_pool3.onnx")
np.save("points.npy", np.random.default_rng(7).normal(size=(8, 162)).astype(np.float64))
np.save("points_64x64.npy", np.random.default_rng(8).normal(size=(3, 64 * 64)).astype(np.float32))
