#!/usr/bin/env python3
"""Generate the models in tests/data/reference/ (next to this script) for tests/reference/plane_counts.py.

mini_resnet_opset13.onnx: a ResNet in miniature, as torchvision builds ResNet-18 but on 2 x 8 x 8 inputs:
a stem (Conv 3x3 + BatchNorm + ReLU, then MaxPool 3x3 with stride 2 and padding 1: windows of up to 9
inputs, k-state units), a basic block with a strided downsample (Conv 3x3 stride 2 + BN + ReLU6, Conv +
BN, added to a Conv 1x1 stride 2 + BN of its input, ReLU), a depthwise Conv (groups = channels) with a
Hardtanh, AdaptiveAvgPool2d(1) and a Linear head. Exported by torch.onnx.export at opset 13 in eval mode
with TrainingMode.PRESERVE, so that the BatchNormalization nodes stay in the file; running statistics
and affine parameters are randomised (seeded) so that they matter.

mini_resnet.points.csv: four 2 x 8 x 8 inputs (flattened, row-major), seeded, with many exact zeros
(a blank border and blank patches, like blank pixels of images), so that ReLUs feeding a MaxPool window
are zero together on whole cells: the windows' tie rule is exercised.

Rerun (deterministic): /usr/bin/python3 tests/data/reference/make_reference_models.py
"""
import os
import sys
import warnings

import numpy as np
import onnx
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "graph"))
from make_graph_models import randomize_batchnorm  # noqa: E402  (the graph fixtures' own)
warnings.filterwarnings("ignore")
torch.set_num_threads(1)


class MiniResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                                  nn.MaxPool2d(3, stride=2, padding=1))                       # 4 x 4 x 4
        self.conv1 = nn.Sequential(nn.Conv2d(4, 6, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(6), nn.ReLU6())
        self.conv2 = nn.Sequential(nn.Conv2d(6, 6, 3, padding=1, bias=False), nn.BatchNorm2d(6))
        self.down = nn.Sequential(nn.Conv2d(4, 6, 1, stride=2, bias=False), nn.BatchNorm2d(6))  # 6 x 2 x 2
        self.depthwise = nn.Sequential(nn.Conv2d(6, 6, 3, padding=1, groups=6), nn.Hardtanh())
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3))

    def forward(self, x):
        x = self.stem(x)
        y = torch.relu(self.conv2(self.conv1(x)) + self.down(x))
        return self.head(self.depthwise(y))


def main():
    torch.manual_seed(40)
    model = MiniResNet()
    randomize_batchnorm(model, 40)
    model.eval()
    path = os.path.join(HERE, "mini_resnet_opset13.onnx")
    torch.onnx.export(model, torch.zeros(1, 2, 8, 8), path, opset_version=13, input_names=["input"],
                      output_names=["output"], training=torch.onnx.TrainingMode.PRESERVE,
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    onnx.checker.check_model(onnx.load(path))
    rng = np.random.default_rng(41)
    x = np.round(rng.uniform(0, 1, size=(4, 2, 8, 8)) * 16) / 16  # sixteenths, like the digits' pixels
    x[:, :, 0, :] = x[:, :, -1, :] = x[:, :, :, 0] = x[:, :, :, -1] = 0
    x[:, :, 2:4, 2:5] = 0
    x[1:, 1, 4:7, 3:6] = 0
    with open(os.path.join(HERE, "mini_resnet.points.csv"), "w") as f:
        for row in x.reshape(4, -1):
            f.write(",".join("%.17g" % v for v in row) + "\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
