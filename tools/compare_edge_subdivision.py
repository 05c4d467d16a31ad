#!/usr/bin/python3
"""Live comparison with Berzins' edge subdivision (ICML 2023) on the networks of issue 11.

Both run on the same machine in the same run, on the same networks: He-normal weights (std sqrt(2/fan_in)),
biases N(0, 0.1^2), seeded, in [-1,1]^d, written by torch.onnx.export for relutope. Edge subdivision is the
public PyTorch code (arturs-berzins/relu_edge_subdivision), imported from a separate checkout whose path you
give; nothing of it is copied here. Its time is its subdivision only (skeletal_subdivision on the CPU, float32,
torch.set_num_threads(t)), relutope's is the `seconds` of `count --json` (the enumeration, without loading). On a loaded machine compare the CPU
columns too: edge subdivision's process time during the subdivision, relutope's whole process (loading the
ONNX included).

Edge subdivision returns the vertices of the partition with their sign vectors; its region count here is the
number of distinct activation patterns of the hidden units around its vertices (at a vertex on k bent
hyperplanes in general position all 2^k sign choices meet). It should equal relutope's count; a difference
is printed (it works in float32 and assumes a generic arrangement).

usage: tools/compare_edge_subdivision.py --checkout PATH [--relutope build/relutope] [--threads 1,2]
                                         [--repeat 5] [--only 3x16x16x16,...] [--json]
example:
  git clone https://github.com/arturs-berzins/relu_edge_subdivision /tmp/es
  /usr/bin/python3 tools/compare_edge_subdivision.py --checkout /tmp/es --repeat 5
"""
import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

# The shapes of issue 11's table (d -> hidden widths) and the seconds it quotes for edge subdivision at 2 threads.
CASES = [
    ("2x32x32x32x32", 2, [32, 32, 32, 32], 0.18),
    ("2x64x64x64x64", 2, [64, 64, 64, 64], 1.94),
    ("3x16x16x16", 3, [16, 16, 16], 0.13),
    ("3x32x32x32", 3, [32, 32, 32], 2.2),
    ("4x12x12x12", 4, [12, 12, 12], 0.35),
    ("5x10x10", 5, [10, 10], 0.09),
]


def he_network(d, widths, seed):
    """The Net of the checkout (nn.Linear layers, one output), with He-normal weights and N(0, 0.1^2) biases."""
    from NN import Net  # the checkout's own module

    torch.manual_seed(seed)
    net = Net(ks=[d, *widths, 1])
    with torch.no_grad():
        for layer in net.fcs:
            layer.weight.normal_(0.0, (2.0 / layer.in_features) ** 0.5)
            layer.bias.normal_(0.0, 0.1)
    # Subdivide by the hidden units only: the regions are those of the hidden layers (the output's zero set,
    # which edge subdivision also traces by default, is not a region boundary).
    net.ls = list(range(1, net.D))
    return net.eval()


class Sequential(torch.nn.Module):
    """The same layers as a plain Linear/ReLU stack for torch.onnx.export."""

    def __init__(self, net):
        super().__init__()
        self.fcs = net.fcs

    def forward(self, x):
        for i, layer in enumerate(self.fcs):
            x = layer(x)
            if i + 1 < len(self.fcs):
                x = torch.relu(x)
        return x


def regions_of(v_sv, d):
    """Distinct hidden-unit patterns around the vertices: every 0 (on that unit's hyperplane) taken both ways."""
    signs = v_sv[:, 2 * d:].numpy().astype(np.int8)
    patterns = set()
    zeros = signs == 0
    counts = zeros.sum(1)
    for k in np.unique(counts):
        rows = signs[counts == k]
        where = np.nonzero(zeros[counts == k])[1].reshape(len(rows), k)
        for choice in itertools.product((-1, 1), repeat=int(k)):
            filled = rows.copy()
            for j in range(int(k)):
                filled[np.arange(len(rows)), where[:, j]] = choice[j]
            packed = np.packbits(filled > 0, axis=1)
            patterns.update(map(bytes, packed))
    return len(patterns)


def time_edge_subdivision(net, threads, repeat):
    from edge_subdivision import skeletal_subdivision  # the checkout's own function

    torch.set_num_threads(threads)
    seconds, cpu = [], []
    result = None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = skeletal_subdivision(net, bbox=(-1, 1), device=torch.device("cpu"), verbose=False)
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    vs, _, v_sv = result
    return statistics.median(seconds), statistics.median(cpu), regions_of(v_sv, net.ks[0])


def time_relutope(relutope, onnx_path, threads, repeat):
    seconds, cpu = [], []
    regions = None
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run([relutope, "count", onnx_path, "--box", "-1:1", "--threads", str(threads), "--json", "-q"],
                             check=True, capture_output=True, text=True).stdout
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        report = json.loads(out)
        seconds.append(report["seconds"])
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        regions = report["regions"]
    return statistics.median(seconds), statistics.median(cpu), regions


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkout", required=True, help="a checkout of arturs-berzins/relu_edge_subdivision")
    parser.add_argument("--relutope", default="build/relutope")
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated (default 1,2)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement; the median is reported")
    parser.add_argument("--only", default="", help="case names, comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="one JSON object per case and thread count")
    args = parser.parse_args()
    if not os.path.isfile(os.path.join(args.checkout, "edge_subdivision.py")):
        sys.exit(f"compare_edge_subdivision: {args.checkout} has no edge_subdivision.py (a checkout of "
                 "arturs-berzins/relu_edge_subdivision is needed)")
    if not os.access(args.relutope, os.X_OK):
        sys.exit(f"compare_edge_subdivision: {args.relutope} is not an executable (build relutope_cli first)")
    sys.path.insert(0, os.path.abspath(args.checkout))
    threads = [int(t) for t in args.threads.split(",")]
    only = set(filter(None, args.only.split(",")))
    unknown = only - {c[0] for c in CASES}
    if unknown:
        sys.exit(f"compare_edge_subdivision: unknown case(s) {', '.join(sorted(unknown))}; "
                 f"known: {', '.join(c[0] for c in CASES)}")

    if not args.json:
        print(f"{'net':<15} {'thr':>3} {'regions (ES)':>12} {'regions (rt)':>12} {'ES s':>9} {'relutope s':>10} "
              f"{'ratio':>7} {'ES cpu':>9} {'rt cpu':>9} {'ratio':>7} {'issue ES s':>10}")
    mismatches = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, d, widths, issue_seconds in CASES:
            if only and name not in only:
                continue
            net = he_network(d, widths, args.seed)
            onnx_path = os.path.join(tmp, name + ".onnx")
            torch.onnx.export(Sequential(net), torch.zeros(1, d), onnx_path, opset_version=13,
                              input_names=["x"], output_names=["y"])
            for t in threads:
                es_seconds, es_cpu, es_regions = time_edge_subdivision(net, t, args.repeat)
                rt_seconds, rt_cpu, rt_regions = time_relutope(args.relutope, onnx_path, t, args.repeat)
                ratio = es_seconds / rt_seconds if rt_seconds > 0 else float("inf")
                cpu_ratio = es_cpu / rt_cpu if rt_cpu > 0 else float("inf")
                mismatches += es_regions != rt_regions
                if args.json:
                    print(json.dumps({"net": name, "threads": t, "regions_edge_subdivision": es_regions,
                                      "regions_relutope": rt_regions, "seconds_edge_subdivision": es_seconds,
                                      "seconds_relutope": rt_seconds, "ratio": ratio,
                                      "cpu_seconds_edge_subdivision": es_cpu, "cpu_seconds_relutope": rt_cpu,
                                      "cpu_ratio": cpu_ratio}))
                else:
                    note = "" if es_regions == rt_regions else "  (counts differ)"
                    print(f"{name:<15} {t:>3} {es_regions:>12,} {rt_regions:>12,} {es_seconds:>9.4f} "
                          f"{rt_seconds:>10.4f} {ratio:>6.1f}x {es_cpu:>9.4f} {rt_cpu:>9.4f} {cpu_ratio:>6.1f}x "
                          f"{issue_seconds if t == 2 else '':>10}{note}", flush=True)
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
