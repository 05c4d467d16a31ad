#!/usr/bin/env python3
"""relutope's plane counts on ONNX graph models against graph_plane_reference.py (beside this file), an
exact rational polygon clipping through the graph's own operations that shares no code with relutope.

Usage: plane_counts.py RELUTOPE SOURCE_DIR WORK_DIR [--only NAME[,NAME...]]

For each case below, `relutope count MODEL --points P --plane i,j,k [--plane-scale F] --json` with each
of the case's engines (the default, --engine segment: the plane walk, --exact) must report the reference's
number of regions, complete. The points are rows of the fixture's .io.txt (inputs PyTorch was run on),
optionally scaled, or given here, written to WORK_DIR as CSV with 17 significant digits; both programs
read the same doubles. Then the reference, deliberately broken in ways a reference could be wrong
(MaxPool ties split, MaxPool not split, Clip with one state too few, a neighbouring plane), must
disagree with those counts: the comparison is sharp enough to see such mistakes.

Exit status 0 if every count agrees (and every broken reference disagrees), 1 otherwise.
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import graph_plane_reference as reference  # noqa: E402

ALL = ("default", "segment", "exact")
GRAPH = "tests/data/graph"


def case(name, model, points, plane=(0, 1, 2), scale=None, engines=ALL):
    return {"name": name, "model": model, "points": points, "plane": plane, "scale": scale, "engines": engines}


WIDE_2D = [[-2.5, -2.0], [3.0, -1.5], [-0.5, 3.0]]
WIDE_3D = [[-2.0, -1.0, 0.5], [2.0, -0.5, -1.0], [0.25, 2.0, 1.5]]
WIDE_4D = [[-2.0, -1.0, 0.5, 1.0], [2.0, -0.5, -1.0, 0.0], [0.25, 2.0, 1.5, -1.5]]

CASES = [
    # Conv, BatchNormalization, Relu, MaxPool 2x2, a residual Add, the Shape/Gather/Unsqueeze/Concat
    # flattening chain; opsets 11 (Unsqueeze axes as an attribute), 13, 17; and the export that fuses BN.
    # (--exact on two of them)
    case("small_cnn_opset11", f"{GRAPH}/small_cnn_opset11.onnx", ("io", "small_cnn_opset11", 1), engines=("default", "segment")),
    case("small_cnn_opset13", f"{GRAPH}/small_cnn_opset13.onnx", ("file", f"{GRAPH}/small_cnn_opset13.points.csv")),
    case("small_cnn_opset17", f"{GRAPH}/small_cnn_opset17.onnx", ("io", "small_cnn_opset17", 1), engines=("default", "segment")),
    case("small_cnn_fused_opset13", f"{GRAPH}/small_cnn_fused_opset13.onnx", ("io", "small_cnn_fused_opset13", 1)),
    # strides, dilations, groups, asymmetric pads, LeakyRelu
    case("conv_variants_opset13", f"{GRAPH}/conv_variants_opset13.onnx", ("io", "conv_variants_opset13", 1)),
    # 1-D Conv, PRelu, MaxPool1d with padding (windows of 3, overlapping), Pad, AveragePool; the plane walk
    # meets a window's line exactly at the crossing of two of its PRelu inputs' zero lines
    case("conv1d_opset11", f"{GRAPH}/conv1d_opset11.onnx", ("io", "conv1d_opset11", 1)),
    case("conv1d_opset17", f"{GRAPH}/conv1d_opset17.onnx", ("io", "conv1d_opset17", 3)),
    # AveragePool with count_include_pad 0 and 1 (Pad), GlobalAveragePool
    case("pools_opset11", f"{GRAPH}/pools_opset11.onnx", ("io", "pools_opset11", 2)),
    # auto_pad SAME_LOWER / SAME_UPPER / VALID on Conv, AveragePool and MaxPool (onnx.helper models)
    case("auto_pad_same_lower", f"{GRAPH}/auto_pad_same_lower.onnx", ("io", "auto_pad_same_lower", 2)),
    case("auto_pad_same_upper", f"{GRAPH}/auto_pad_same_upper.onnx", ("io", "auto_pad_same_upper", 2)),
    case("auto_pad_valid", f"{GRAPH}/auto_pad_valid.onnx", ("io", "auto_pad_valid", 2)),
    # Hardtanh and ReLU6 (3 states), clamp with one bound, Split, Mul, Concat
    case("clips_opset11", f"{GRAPH}/clips_opset11.onnx", ("rows", WIDE_2D)),
    case("clips_opset13", f"{GRAPH}/clips_opset13.onnx", ("rows", WIDE_2D)),
    case("clips_opset17", f"{GRAPH}/clips_opset17.onnx", ("rows", WIDE_2D)),
    case("hardtanh_mlp", f"{GRAPH}/hardtanh_mlp.onnx", ("rows", WIDE_2D)),
    # elementwise Max of two branches, Sub/Mul/Div by constants, Pad, Slice, Transpose, Gather, If, ...
    case("elementwise_opset11", f"{GRAPH}/elementwise_opset11.onnx", ("rows", WIDE_4D)),
    case("elementwise_opset13", f"{GRAPH}/elementwise_opset13.onnx", ("rows", WIDE_4D)),
    case("elementwise_opset17", f"{GRAPH}/elementwise_opset17.onnx", ("rows", WIDE_4D)),
    case("max_mlp", f"{GRAPH}/max_mlp.onnx", ("rows", WIDE_2D)),
    # residual MLP, BatchNorm1d after a Gemm
    case("residual_mlp_opset13", f"{GRAPH}/residual_mlp_opset13.onnx", ("rows", WIDE_3D)),
    case("bn1d_mlp_opset17", f"{GRAPH}/bn1d_mlp_opset17.onnx", ("rows", WIDE_3D)),
    # output heads: Softmax (the body's regions), and over channels with Transpose (opset 11)
    case("softmax_head_opset13", f"{GRAPH}/softmax_head_opset13.onnx", ("rows", WIDE_2D)),
    case("channel_softmax_head_opset11", f"{GRAPH}/channel_softmax_head_opset11.onnx", ("io", "channel_softmax_head_opset11", 2)),
    # a ResNet in miniature (tests/data/reference/make_reference_models.py): MaxPool 3x3 stride 2 pad 1 (up to
    # 9 inputs per window, thousands of partial ties at its blank inputs), a strided downsample, ReLU6,
    # a depthwise Conv with Hardtanh, GlobalAveragePool
    case("mini_resnet_0_1_2", "tests/data/reference/mini_resnet_opset13.onnx",
         ("file", "tests/data/reference/mini_resnet.points.csv")),
    # the digits CNN of examples/ (Reshape, Conv + BN, ReLU, MaxPool, residual block): the whole triangle
    # through a 0, a 2 and a 7 (README: 3,858), and the plane walk's parts of another (many MaxPool ties
    # at blank pixels)
    case("digits_cnn_0_1_2", "examples/digits_cnn.onnx", ("file", "examples/digits_test.csv"), engines=("default", "segment")),
    case("digits_cnn_0_5_17_scale_0.02", "examples/digits_cnn.onnx", ("file", "examples/digits_test.csv"), (0, 5, 17),
         0.02, ("segment",)),
    case("digits_cnn_0_5_17_scale_0.3", "examples/digits_cnn.onnx", ("file", "examples/digits_test.csv"), (0, 5, 17),
         0.3, ("segment",)),
    case("digits_cnn_3_4_6_scale_0.1", "examples/digits_cnn.onnx", ("file", "examples/digits_test.csv"), (3, 4, 6),
         0.1, ("segment",)),
]


def points_file(spec, source, work, name):
    kind = spec[0]
    if kind == "file":
        return os.path.join(source, spec[1])
    if kind == "io":
        with open(os.path.join(source, GRAPH, f"{spec[1]}.io.txt")) as f:
            d = int(f.readline().split()[2])
            rows = [[float(x) * spec[2] for x in line.split()[:d]] for line, _ in zip(f, range(3))]
    else:
        rows = spec[1]
    path = os.path.join(work, f"{name}.points.csv")
    with open(path, "w") as f:
        f.writelines(",".join("%.17g" % x for x in row) + "\n" for row in rows)
    return path


def relutope_count(binary, model, points, plane, scale, engine):
    args = [binary, "count", model, "--points", points, "--plane", ",".join(map(str, plane)), "--json", "-q"]
    if scale is not None:
        args += ["--plane-scale", repr(scale)]
    args += {"default": [], "segment": ["--engine", "segment"], "exact": ["--exact"]}[engine]
    started = time.time()
    p = subprocess.run(args, capture_output=True, text=True, timeout=300)
    seconds = time.time() - started
    if p.returncode != 0:
        return f"exit {p.returncode}: {p.stderr.strip()[:400]}", seconds
    out = json.loads(p.stdout)
    if not out.get("complete", False):
        return f"incomplete: {p.stdout[:200]}", seconds
    return out["regions"], seconds


def reference_count(c, points, limit=None):
    """The reference's count, or limit + 1 if it finds more than `limit` regions."""
    try:
        return reference.count_on_plane(c["model"], points, list(c["plane"]), 1.0 if c["scale"] is None else c["scale"],
                                        limit=limit)["regions"]
    except reference.TooManyRegions:
        return limit + 1


def run_case(binary, source, work, c):
    points = points_file(c["points"], source, work, c["name"])
    started = time.time()
    truth = reference_count(c, points)
    line = [f"{c['name']}: reference {truth} ({time.time() - started:.2f} s)"]
    ok = True
    for engine in c["engines"]:
        got, seconds = relutope_count(binary, c["model"], points, c["plane"], c["scale"], engine)
        line.append(f"{engine} {got} ({seconds:.2f} s)")
        ok = ok and got == truth
    print(("ok       " if ok else "MISMATCH ") + ", ".join(line), flush=True)
    return ok, truth, points


# ------------------------------------------------------------------------------------ broken references

def max_ties_split(cell, zs):
    """Wrong: identical inputs of a Max unit split the cell (one piece per tied input)."""
    out = []
    for i, zi in enumerate(zs):
        piece = cell
        for j, zj in enumerate(zs):
            if j != i and zi != zj:
                piece = reference.clip(piece, reference.sub(zi, zj))
        if reference.has_area(piece):
            out.append((piece, zi))
    return out


def max_not_split(cell, zs):
    """Wrong: a Max unit keeps its first input."""
    return [(cell, zs[0])]


def clip_one_bound(cell, z, lo, hi):
    """Wrong: Clip's upper bound is ignored (ReLU6 and Hardtanh as 2-state units)."""
    return ORIGINAL["split_clip"](cell, z, lo, None)


ORIGINAL = {"split_max": reference.split_max, "split_clip": reference.split_clip}

BROKEN = [
    # (what, function replaced, replacement, case)
    ("MaxPool ties split", "split_max", max_ties_split, "digits_cnn_0_5_17_scale_0.02"),
    ("MaxPool not split", "split_max", max_not_split, "small_cnn_opset13"),
    ("Clip upper bound ignored", "split_clip", clip_one_bound, "clips_opset13"),
]


def sensitivity(results):
    ok = True
    for what, name, replacement, case_name in BROKEN:
        if case_name not in results:
            continue
        truth, points, c = results[case_name]
        setattr(reference, name, replacement)
        try:
            wrong = reference_count(c, points, limit=2 * truth)
        finally:
            setattr(reference, name, ORIGINAL[name])
        good = wrong != truth
        ok = ok and good
        print(f"{'ok       ' if good else 'NOT SEEN '}broken reference ({what}) on {case_name}: "
              f"{'more than ' + str(2 * truth) if wrong > 2 * truth else wrong} regions, relutope {truth}", flush=True)
    # A neighbouring plane: the triangle through another data point.
    if "digits_cnn_0_5_17_scale_0.3" in results:
        truth, points, c = results["digits_cnn_0_5_17_scale_0.3"]
        other = dict(c, plane=(0, 5, 16))
        wrong = reference_count(other, points, limit=2 * truth)
        good = wrong != truth
        ok = ok and good
        print(f"{'ok       ' if good else 'NOT SEEN '}reference on --plane 0,5,16 instead of 0,5,17: {wrong} regions, "
              f"relutope {truth}", flush=True)
    return ok


def main():
    args = sys.argv[1:]
    only = None
    if "--only" in args:
        i = args.index("--only")
        only = set(args[i + 1].split(","))
        del args[i:i + 2]
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, source, work = args
    binary, work = os.path.abspath(binary), os.path.abspath(work)
    os.makedirs(work, exist_ok=True)
    os.chdir(source)
    cases = [c for c in CASES if not only or c["name"] in only]
    if only and len(cases) != len(only):
        print(f"unknown case in {sorted(only)}", file=sys.stderr)
        return 2
    started = time.time()
    bad = 0
    results = {}
    for c in cases:
        ok, truth, points = run_case(binary, source, work, c)
        bad += not ok
        results[c["name"]] = (truth, points, c)
    if not only and not sensitivity(results):
        bad += 1
    print(f"{len(cases)} cases, {bad} with a disagreement, {time.time() - started:.1f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
