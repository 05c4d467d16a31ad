#!/usr/bin/env python3
"""Differential test of relutope's engines on adversarial small networks, against an independent
reference: a forward pass in exact rationals (Python's fractions), written here, sharing no code
with relutope.

Usage: differential.py RELUTOPE_BINARY WORK_DIR [SEED [NETS]]

For each network, drawn with a fixed seed:
  - `count` with the vertex, lp and exact engines at 1 and 2 threads, and `count --exact`, give
    the same number of regions;
  - `export --jsonl` (vertex engine) and `export --engine exact` write the same patterns, each once;
  - the volumes of the exported regions sum to the volume of the box;
  - each region's interior point has, in exact arithmetic, the region's pattern;
  - every pattern found at sampled points of the box is among the exported ones.

The networks are what breaks floating point: duplicated, negated and scaled rows, small integer
and dyadic weights (exact ties), Max units, leaky slopes (negative too), linear layers folded into
the next, boxes from 1e-6 to 1e6 wide and off centre, and rows whose products round (a row that
cancels to 0 in doubles beside a bias that does not). Exit status 0 if every check holds, 1 if
one does not (each failure printed with the network's file, kept in WORK_DIR).
"""
import json
import os
import random
import subprocess
import sys
from fractions import Fraction as F

TIMEOUT = 60


def weight(rng, style):
    if style == "int":
        return rng.choice([-2, -1, 0, 0, 1, 2])
    if style == "half":
        return rng.choice([-1, -0.5, 0, 0.5, 1, 0.25])
    return round(rng.gauss(0, 1), 3)


def layer_of(rng, style, prev, kind, width):
    W = [[weight(rng, style) for _ in range(prev)] for _ in range(width)]
    b = [weight(rng, style) * rng.choice([0, 0, 1]) for _ in range(width)]
    if kind == "relu_dup":  # duplicated / negated / scaled rows
        for i in range(1, width):
            j = rng.randrange(i)
            f = rng.choice([1, -1, 2, 0.5])
            if rng.random() < 0.6:
                W[i] = [f * x for x in W[j]]
                b[i] = f * b[j]
        kind = "relu"
    layer = {"weight": W, "bias": b, "activation": kind}
    out = width
    if kind == "leaky_relu":
        layer["negative_slope"] = rng.choice([0.5, -1, 0.1, 2])
    if kind == "max":
        rows, left = [], width
        while left > 0:
            k = min(left, rng.choice([1, 2, 3]))
            rows.append(k)
            left -= k
        layer["unit_rows"] = rows
        out = len(rows)
    return layer, out


def cancelling(rng, d):
    """Two ReLUs a (v.x + t) and c (v.x + t) with c = fl(a a), then a row a h_1 - h_2 + beta that is
    0 in doubles but 2^-104 (v.x + t) + beta exactly; beta puts its cut inside or outside the box
    (or the row feeds a Max unit against 0)."""
    a = 1 + 2.0 ** -52 * rng.choice([1, 3])
    c = a * a  # rounded: a a - c = 2^-104 or 9 * 2^-104, exactly
    gap = F(a) * F(a) - F(c)
    v = [rng.choice([-1, 1, 2]) for _ in range(d)]
    t = 1
    while t <= sum(abs(x) for x in v):  # v.x + t > 0 on [-1, 1]^d: both ReLUs active; a power of 2,
        t *= 2                          # so that a t and c t are exact
    first = {"weight": [[a * x for x in v], [c * x for x in v]], "bias": [a * t, c * t], "activation": "relu"}
    # beta = -gap (v.x0 + t) for x0 inside the box (a cut) or outside it (no cut)
    at = F(rng.choice([0, 1, -1, 3])) / 2 if rng.random() < 0.7 else F(rng.choice([-3, 5]))
    beta = float(-gap * (at * sum(v) + t))
    if rng.random() < 0.5:
        second = {"weight": [[a, -1]], "bias": [beta], "activation": "relu"}
        out = 1
    else:
        second = {"weight": [[a, -1], [0, 0]], "bias": [beta, 0], "activation": "max", "unit_rows": [2]}
        out = 1
    layers = [first, second, {"weight": [[1.0] * out], "bias": [0], "activation": "none"}]
    return {"layers": layers, "domain": {"lo": [-1] * d, "hi": [1] * d}}


def make(rng):
    d = rng.choice([1, 2, 2, 3, 3, 4])
    if rng.random() < 0.12:
        return cancelling(rng, d), d
    style = rng.choice(["int", "half", "gauss"])
    layers, prev = [], d
    depth = rng.choice([1, 2, 3])
    for l in range(depth):
        kind = rng.choice(["relu", "relu", "relu", "leaky_relu", "max", "none", "relu_dup"])
        if l == depth - 1 and kind == "none":
            kind = "relu"
        layer, prev = layer_of(rng, style, prev, kind, rng.choice([2, 3, 4, 5, 6]))
        layers.append(layer)
    layers.append({"weight": [[1.0] * prev], "bias": [0], "activation": "none"})
    s = rng.choice([1, 1, 2, 0.5, 1e6, 1e-6, 3])
    c = rng.choice([0, 0, 0, 1, -0.5, 1e3])
    return {"layers": layers, "domain": {"lo": [c - s] * d, "hi": [c + s] * d}}, d


def pattern(net, x):
    """The activation pattern at x in exact arithmetic, in relutope's JSONL notation (README:
    entries of a layer without separator, '.' between Max units, '|' between layers), with its
    convention for a unit that is constant on a region: a pre-activation 0 is inactive, and of tied
    rows of a Max unit the lowest is the state. At a point in the interior of a region a unit can
    only be at its breakpoint if it is so on the whole region; a sampled point lands on a real
    breakpoint with probability 0."""
    segs = []
    v = [F(t) for t in x]
    for layer in net["layers"][:-1]:
        z = [sum(F(w) * vi for w, vi in zip(row, v)) + F(bi) for row, bi in zip(layer["weight"], layer["bias"])]
        kind = layer["activation"]
        if kind == "none":
            v = z
            continue
        if kind == "max":
            out, ent, r = [], [], 0
            for k in layer["unit_rows"]:
                zs = z[r:r + k]
                m = max(zs)
                if k >= 2:
                    ent.append(str(zs.index(m)))
                out.append(m)
                r += k
            if ent:
                segs.append(".".join(ent))
            v = out
            continue
        slope = F(layer.get("negative_slope", 0)) if kind == "leaky_relu" else F(0)
        ent, out = "", []
        for zi in z:
            if slope != 1:
                ent += "1" if zi > 0 else "0"
            out.append(zi if zi >= 0 else slope * zi)
        if ent:
            segs.append(ent)
        v = out
    return "|".join(segs)


def run(binary, *args):
    p = subprocess.run([binary, *args], capture_output=True, text=True, timeout=TIMEOUT)
    return p.returncode, p.stdout, p.stderr.strip()[:300]


def count(binary, path, *args):
    code, out, err = run(binary, "count", path, "--json", *args)
    if code != 0:
        return f"exit {code}: {err}"
    return json.loads(out)["regions"]


def exported(binary, path, out, *args):
    code, _, err = run(binary, "export", path, "--jsonl", out, "-q", *args)
    if code != 0:
        return None, f"export {' '.join(args)}: exit {code}: {err}"
    with open(out) as f:
        return [json.loads(line) for line in f], None


def check(binary, work, seed):
    rng = random.Random(seed)
    net, d = make(rng)
    path = os.path.join(work, f"net_{seed}.json")
    with open(path, "w") as f:
        json.dump(net, f)
    problems = []
    counts = {}
    for engine in ["vertex", "lp", "exact"]:
        for threads in ["1", "2"]:
            counts[f"{engine}/{threads}"] = count(binary, path, "--engine", engine, "--threads", threads)
    counts["--exact"] = count(binary, path, "--exact", "--threads", "2")
    if len(set(map(str, counts.values()))) != 1:
        problems.append(f"counts differ: {counts}")
    regions, error = exported(binary, path, os.path.join(work, f"net_{seed}.jsonl"), "--threads", "2")
    exact_regions, exact_error = exported(binary, path, os.path.join(work, f"net_{seed}.exact.jsonl"),
                                          "--engine", "exact", "--fields", "pattern")
    problems += [e for e in (error, exact_error) if e]
    if regions is not None:
        patterns = [r["pattern"] for r in regions]
        if len(set(patterns)) != len(patterns):
            problems.append("a pattern exported twice")
        if exact_regions is not None and sorted(patterns) != sorted(r["pattern"] for r in exact_regions):
            problems.append(f"vertex and exact engines export different patterns: {sorted(patterns)} vs "
                            f"{sorted(r['pattern'] for r in exact_regions)}")
        lo, hi = net["domain"]["lo"], net["domain"]["hi"]
        volume = 1.0
        for a, b in zip(lo, hi):
            volume *= b - a
        total = sum(r["volume"] for r in regions)
        if abs(total - volume) > 1e-9 * volume:
            problems.append(f"volumes sum to {total}, the box has {volume}")
        for r in regions:
            found = pattern(net, r["interior_point"])
            if found != r["pattern"]:
                problems.append(f"the interior point of {r['pattern']} has pattern {found}")
        seen = set(patterns)
        for _ in range(400):
            x = [rng.uniform(a, b) for a, b in zip(lo, hi)]
            found = pattern(net, x)
            if found not in seen:
                problems.append(f"pattern {found} at the sampled point {x} was not exported")
                break
    if problems:
        print(f"seed {seed} ({path}, {d} inputs):", flush=True)
        for p in problems[:4]:
            print("  " + p, flush=True)
        return False
    for suffix in (".json", ".jsonl", ".exact.jsonl"):
        name = os.path.join(work, f"net_{seed}{suffix}")
        if os.path.exists(name):
            os.unlink(name)
    return True


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    binary, work = sys.argv[1], sys.argv[2]
    seed0 = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    os.makedirs(work, exist_ok=True)
    bad = sum(not check(binary, work, s) for s in range(seed0, seed0 + n))
    print(f"{n} networks, {bad} with a disagreement")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
