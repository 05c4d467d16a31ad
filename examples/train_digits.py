#!/usr/bin/env python3
"""Train a small ReLU classifier on the 8x8 digits data set and export it to ONNX.

What it does
  * Loads scikit-learn's bundled 8x8 digits data set (1797 images, 64 pixels,
    10 classes; sklearn.datasets.load_digits() reads it from the package, no
    download) and scales the pixel values from 0..16 to [0, 1] (divide by 16).
  * Splits deterministically with sklearn's train_test_split(test_size=0.25,
    random_state=0): 1347 training images, 450 test images. (The unshuffled
    "first 1500 / last 297" split was tried first, but its test images come from
    different writers and this tiny net only reaches ~89-91% there.)
  * Trains nn.Sequential(Linear(64,10), ReLU, Linear(10,10), ReLU,
    Linear(10,10)) as a 10-class classifier producing logits
    (CrossEntropyLoss, Adam lr=1e-2, 300 full-batch steps).
  * Prints training and test accuracy.
  * Writes, next to this script:
      digits_64_10_10.onnx      the network (opset 13, input "pixels" of shape
                                (batch, 64), output "logits" of shape (batch, 10))
      digits_test.csv           the first 20 test images, one per row, 64
                                comma-separated values in [0, 1], no header
      digits_test_labels.csv    their labels, one integer per line
      digits_test.npy           the same 20 images, float64, shape (20, 64)
      digits_test_logits.csv    PyTorch's logits for those 20 images
                                (20 rows x 10 columns, no header), so a test can
                                check that the loaded network reproduces them

Rerun (from any directory; needs Debian's python3 with torch, onnx and
python3-sklearn):
    /usr/bin/python3 examples/train_digits.py

Deterministic: seeds are fixed, torch runs single-threaded with deterministic
algorithms and full-batch training is used, so rerunning produces the same
weights (and the same files).
"""
import os

import numpy as np
import torch
from torch import nn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SEED = 0
TEST_SIZE = 0.25
N_EXPORT = 20
STEPS = 300
LR = 1e-2

HERE = os.path.dirname(os.path.abspath(__file__))
ONNX_PATH = os.path.join(HERE, "digits_64_10_10.onnx")
CSV_PATH = os.path.join(HERE, "digits_test.csv")
LABELS_PATH = os.path.join(HERE, "digits_test_labels.csv")
NPY_PATH = os.path.join(HERE, "digits_test.npy")
LOGITS_PATH = os.path.join(HERE, "digits_test_logits.csv")


def accuracy(model, X, y):
    with torch.no_grad():
        return (model(X).argmax(dim=1) == y).float().mean().item()


def main():
    np.random.seed(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    digits = load_digits()
    X = digits.data.astype(np.float64) / 16.0   # pixel values 0..16 -> [0, 1]
    y = digits.target.astype(np.int64)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, random_state=SEED)

    Xtr = torch.tensor(X_train, dtype=torch.float32)
    ytr = torch.tensor(y_train)
    Xte = torch.tensor(X_test, dtype=torch.float32)
    yte = torch.tensor(y_test)

    model = nn.Sequential(
        nn.Linear(64, 10), nn.ReLU(),
        nn.Linear(10, 10), nn.ReLU(),
        nn.Linear(10, 10),
    )
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=LR)

    model.train()
    for step in range(STEPS):
        opt.zero_grad()
        loss = loss_fn(model(Xtr), ytr)
        loss.backward()
        opt.step()

    model.eval()
    with torch.no_grad():
        final_loss = loss_fn(model(Xtr), ytr).item()
    train_acc = accuracy(model, Xtr, ytr)
    test_acc = accuracy(model, Xte, yte)
    print(f"final training loss: {final_loss:.3g}")
    print(f"training accuracy: {train_acc * 100:.2f}% ({int(round(train_acc * len(y_train)))}/{len(y_train)})")
    print(f"test accuracy:     {test_acc * 100:.2f}% ({int(round(test_acc * len(y_test)))}/{len(y_test)})")

    torch.onnx.export(
        model, torch.zeros(1, 64), ONNX_PATH,
        opset_version=13,
        input_names=["pixels"], output_names=["logits"],
        dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}},
    )
    print(f"wrote {ONNX_PATH}")

    images = X_test[:N_EXPORT]
    labels = y_test[:N_EXPORT]
    with torch.no_grad():
        logits = model(torch.tensor(images, dtype=torch.float32)).double().numpy()

    np.savetxt(CSV_PATH, images, fmt="%.9g", delimiter=",")
    np.savetxt(LABELS_PATH, labels, fmt="%d")
    np.save(NPY_PATH, images.astype(np.float64))
    np.savetxt(LOGITS_PATH, logits, fmt="%.9g", delimiter=",")
    for path in (CSV_PATH, LABELS_PATH, NPY_PATH, LOGITS_PATH):
        print(f"wrote {path}")
    print("labels of the exported test images:", " ".join(str(v) for v in labels))
    print("predictions:                       ", " ".join(str(v) for v in logits.argmax(axis=1)))


if __name__ == "__main__":
    main()
