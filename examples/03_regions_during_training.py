"""Trains a small ReLU classifier on two moons and counts its linear regions in [-2,2]^2 every few
epochs, straight from the torch.nn.Module (relutope exports it to ONNX in memory), then plots the count.

    python3 examples/03_regions_during_training.py [--epochs 60] [--out regions_during_training.png]

Needs Debian's python3-torch and python3-matplotlib, and relutope's Python module (tools/setup.sh).
"""
import argparse
import math

import torch

import relutope


def two_moons(n, noise, generator):
    t = torch.rand(n, generator=generator) * math.pi
    upper = torch.rand(n, generator=generator) < 0.5
    x = torch.where(upper, torch.cos(t), 1 - torch.cos(t))
    y = torch.where(upper, torch.sin(t), 0.5 - torch.sin(t))
    points = torch.stack([x - 0.5, y - 0.25], dim=1) + noise * torch.randn(n, 2, generator=generator)
    return points, upper.float().unsqueeze(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--every", type=int, default=5, help="count every this many epochs")
    parser.add_argument("--out", default="regions_during_training.png")
    args = parser.parse_args()

    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    x, y = two_moons(1000, 0.1, generator)
    net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16), torch.nn.ReLU(),
                              torch.nn.Linear(16, 1))
    optimiser = torch.optim.Adam(net.parameters(), lr=0.01)
    epochs, counts = [], []
    for epoch in range(args.epochs + 1):
        if epoch % args.every == 0:
            result = relutope.count(net, box="-2:2")  # exact count of the regions in [-2,2]^2
            epochs.append(epoch)
            counts.append(result.regions)
            print(f"epoch {epoch:4d}: {result.regions} regions ({result.seconds:.3f} s)")
        for batch in torch.randperm(len(x)).split(100):
            optimiser.zero_grad()
            torch.nn.functional.binary_cross_entropy_with_logits(net(x[batch]), y[batch]).backward()
            optimiser.step()

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(epochs, counts, marker="o")
    axes.set_xlabel("epoch")
    axes.set_ylabel("linear regions in [-2,2]²")
    axes.set_title("2-16-16-1 ReLU net on two moons")
    figure.tight_layout()
    figure.savefig(args.out, dpi=120)
    print("plot written to", args.out)


if __name__ == "__main__":
    main()
