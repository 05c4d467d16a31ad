#!/usr/bin/env python3
"""Train a small CNN with BatchNorm, MaxPool and a residual block on the 8x8 digits and export it.

What it does
  * Loads scikit-learn's bundled 8x8 digits (no download), scales the pixels to [0, 1] and splits them
    exactly as train_digits.py does (train_test_split(test_size=0.25, random_state=0)), so the test
    images in digits_test.csv are test images of this network too.
  * The network, on inputs of shape (batch, 64) viewed as (batch, 1, 8, 8):
        Conv2d(1, 4, 3, padding=1), BatchNorm2d(4), ReLU, MaxPool2d(2)        -> 4 x 4 x 4
        y + BatchNorm2d(Conv2d(4, 4, 3, padding=1)(y)), ReLU                   (residual block)
        flatten, Linear(64, 10)                                                -> logits
  * Trains it with Adam (lr 1e-2, minibatches of 64, 15 epochs), prints the accuracies, and exports
    digits_cnn.onnx (opset 13, input "pixels" (batch, 64), output "logits" (batch, 10)) beside this
    script. The export keeps the BatchNormalization nodes (TrainingMode.PRESERVE on the model in eval
    mode); relutope folds each into the Conv before it. The default export, which fuses them itself,
    loads the same way.
  * Writes digits_cnn_test_logits.csv: PyTorch's logits of the 20 images of digits_test.csv.

Then, from the repository root (the plane through three test digits, and the segment between two):
    relutope count examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,1,2
    relutope count examples/digits_cnn.onnx --points examples/digits_test.csv --line 0,1
    relutope export examples/digits_cnn.onnx --points examples/digits_test.csv --plane 0,1,2 --png cnn.png

Rerun (Debian's python3 with python3-torch, python3-onnx and python3-sklearn):
    /usr/bin/python3 examples/train_digits_cnn.py
Deterministic: fixed seeds, one thread, deterministic algorithms.
"""
import os

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

SEED = 0
HERE = os.path.dirname(os.path.abspath(__file__))
ONNX_PATH = os.path.join(HERE, "digits_cnn.onnx")
LOGITS_PATH = os.path.join(HERE, "digits_cnn_test_logits.csv")
TEST_CSV = os.path.join(HERE, "digits_test.csv")


class DigitsCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2)
        self.block = nn.Conv2d(4, 4, 3, padding=1)
        self.block_bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 4 * 4, 10)

    def forward(self, pixels):
        x = pixels.view(-1, 1, 8, 8)
        y = self.pool(torch.relu(self.bn(self.conv(x))))
        y = torch.relu(y + self.block_bn(self.block(y)))
        return self.fc(torch.flatten(y, 1))


def accuracy(model, X, y):
    with torch.no_grad():
        return (model(X).argmax(dim=1) == y).float().mean().item()


def main():
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    digits = load_digits()
    X = digits.data.astype(np.float64) / 16.0
    y = digits.target.astype(np.int64)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=SEED)
    Xtr, ytr = torch.tensor(X_train, dtype=torch.float32), torch.tensor(y_train)
    Xte, yte = torch.tensor(X_test, dtype=torch.float32), torch.tensor(y_test)

    model = DigitsCnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(SEED)
    for epoch in range(15):
        model.train()
        order = torch.randperm(len(Xtr), generator=generator)
        for start in range(0, len(Xtr), 64):
            batch = order[start:start + 64]
            opt.zero_grad()
            loss_fn(model(Xtr[batch]), ytr[batch]).backward()
            opt.step()
    model.eval()
    print(f"training accuracy: {accuracy(model, Xtr, ytr) * 100:.2f}%")
    print(f"test accuracy:     {accuracy(model, Xte, yte) * 100:.2f}%")

    torch.onnx.export(model, torch.zeros(1, 64), ONNX_PATH, opset_version=13,
                      input_names=["pixels"], output_names=["logits"],
                      dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    print(f"wrote {ONNX_PATH}")
    images = np.loadtxt(TEST_CSV, delimiter=",")
    with torch.no_grad():
        logits = model.double()(torch.tensor(images)).numpy()
    np.savetxt(LOGITS_PATH, logits, fmt="%.17g", delimiter=",")
    print(f"wrote {LOGITS_PATH}")


if __name__ == "__main__":
    main()
