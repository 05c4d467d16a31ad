#!/usr/bin/python3
"""Writes torchvision's ResNet-18 as torch.onnx.export writes it, with inputs and PyTorch's outputs.

Usage: /usr/bin/python3 make_resnet18.py OUT_DIR      (Debian's python3-torch and python3-torchvision)
  OUT_DIR/resnet18.onnx      resnet18(weights=None) with torch.manual_seed(0), eval mode, opset 13 (45 MB,
                             so it is made at test time rather than checked in; nothing is downloaded). The
                             exporter folds each BatchNorm into its Conv, rounding the result to float32.
  OUT_DIR/resnet18_bn.onnx   the same with the BatchNormalization nodes kept (TrainingMode.PRESERVE on the
                             model in eval mode): the weights PyTorch computes with, for a float64 comparison
  OUT_DIR/two_images.npy     2 x 150528 float64: two random 3x224x224 inputs, one per row
  OUT_DIR/outputs64.npy      2 x 1000: PyTorch's logits in float64 (the float32 weights, widened)
  OUT_DIR/outputs32.npy      2 x 1000: PyTorch's logits in float32
  OUT_DIR/three_images.npy   3 x 150528 float64: the two inputs and a third (random, drawn after everything
                             above, so that it changes none of it), for a plane through three images
"""
import os
import sys

import numpy as np
import torch
import torchvision

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
model = torchvision.models.resnet18(weights=None).eval()
x = torch.randn(2, 3, 224, 224)
torch.onnx.export(model, x[:1], os.path.join(out, "resnet18.onnx"), opset_version=13, input_names=["image"],
                  output_names=["logits"])
torch.onnx.export(model, x[:1], os.path.join(out, "resnet18_bn.onnx"), opset_version=13, input_names=["image"],
                  output_names=["logits"], training=torch.onnx.TrainingMode.PRESERVE)
with torch.no_grad():
    y32 = model(x).numpy()
    y64 = model.double()(x.double()).numpy()
np.save(os.path.join(out, "two_images.npy"), x.double().reshape(2, -1).numpy())
np.save(os.path.join(out, "outputs64.npy"), y64)
np.save(os.path.join(out, "outputs32.npy"), y32.astype(np.float64))
third = torch.randn(1, 3, 224, 224)
np.save(os.path.join(out, "three_images.npy"), torch.cat([x, third]).double().reshape(3, -1).numpy())
