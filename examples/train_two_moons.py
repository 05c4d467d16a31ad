#!/usr/bin/env python3
"""Train a small ReLU classifier on a synthetic two-moons data set and export it to ONNX.

What it does
  * Generates the two-moons data set with numpy (400 points, 200 per moon,
    Gaussian noise with standard deviation 0.1, fixed seed) -- no sklearn.
  * Rescales the inputs so that they lie roughly in [-1, 1]^2: the noise-free
    moons span x in [-1, 2] and y in [-0.5, 1]; each axis is mapped affinely so
    that this bounding box becomes [-1, 1]^2 (noisy points may stick out a bit).
  * Trains nn.Sequential(Linear(2,16), ReLU, Linear(16,16), ReLU,
    Linear(16,16), ReLU, Linear(16,1)) as a binary classifier
    (BCEWithLogitsLoss, Adam lr=1e-2, 1000 full-batch steps).
  * Prints the training accuracy and writes two_moons.onnx next to this script
    (opset 13, input "input" of shape (batch, 2), output "logit" of shape (batch, 1)).

Rerun (from any directory; Debian's python has torch/onnx):
    /usr/bin/python3 examples/train_two_moons.py

Deterministic: numpy and torch seeds are fixed and torch runs single-threaded,
so rerunning produces the same weights (and the same ONNX file).
"""
import os

import numpy as np
import torch
from torch import nn

SEED = 0
N_SAMPLES = 400
NOISE = 0.1
STEPS = 1000
LR = 1e-2

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_PATH = os.path.join(HERE, "two_moons.onnx")


def make_moons(n_samples, noise, rng):
    """Same construction as sklearn.datasets.make_moons (not shuffled)."""
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0.0, np.pi, n_out)
    t_in = np.linspace(0.0, np.pi, n_in)
    outer = np.stack([np.cos(t_out), np.sin(t_out)], axis=1)
    inner = np.stack([1.0 - np.cos(t_in), 1.0 - np.sin(t_in) - 0.5], axis=1)
    X = np.concatenate([outer, inner], axis=0)
    y = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    X = X + rng.normal(scale=noise, size=X.shape)
    return X, y


def main():
    rng = np.random.default_rng(SEED)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)

    X, y = make_moons(N_SAMPLES, NOISE, rng)
    # Noise-free bounding box [-1, 2] x [-0.5, 1]  ->  [-1, 1]^2.
    center = np.array([0.5, 0.25])
    half_width = np.array([1.5, 0.75])
    X = (X - center) / half_width

    Xt = torch.tensor(X, dtype=torch.float32)
    yt = torch.tensor(y, dtype=torch.float32).unsqueeze(1)

    model = nn.Sequential(
        nn.Linear(2, 16), nn.ReLU(),
        nn.Linear(16, 16), nn.ReLU(),
        nn.Linear(16, 16), nn.ReLU(),
        nn.Linear(16, 1),
    )
    loss_fn = nn.BCEWithLogitsLoss()
    opt = torch.optim.Adam(model.parameters(), lr=LR)

    model.train()
    for step in range(STEPS):
        opt.zero_grad()
        loss = loss_fn(model(Xt), yt)
        loss.backward()
        opt.step()

    model.eval()
    with torch.no_grad():
        logits = model(Xt)
        final_loss = loss_fn(logits, yt).item()
        acc = ((logits > 0).float() == yt).float().mean().item()
    print(f"input range: x in [{X[:, 0].min():.3f}, {X[:, 0].max():.3f}], "
          f"y in [{X[:, 1].min():.3f}, {X[:, 1].max():.3f}]")
    print(f"final training loss: {final_loss:.3g}")
    print(f"training accuracy: {acc * 100:.2f}% ({int(round(acc * N_SAMPLES))}/{N_SAMPLES})")

    torch.onnx.export(
        model, torch.zeros(1, 2), OUT_PATH,
        opset_version=13,
        input_names=["input"], output_names=["logit"],
        dynamic_axes={"input": {0: "batch"}},
    )
    print(f"wrote {OUT_PATH}")


if __name__ == "__main__":
    main()
