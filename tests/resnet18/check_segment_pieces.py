#!/usr/bin/env python3
# Independent check of relutope's certified segment walk on ResNet-18 (ctest graph.resnet18.segment_certified):
# a numpy interpreter of the exported ONNX (Conv, Relu, MaxPool, Add, GlobalAveragePool, Flatten, Gemm;
# not relutope's code) gives the joint unit state (ReLU signs, MaxPool argmax) at points of the segment. It must
# be the same at a quarter, the middle and three quarters of each piece, and differ between neighbouring pieces.
#   check_segment_pieces.py MODEL.onnx POINTS.npy COUNT.json    (COUNT.json: relutope count --line 0,1 --json)
# The value of one unit's input at one t, in float64 and in long double (x87 extended, 64-bit significand), to
# tell a value that is really tiny from one that is zero when the walk cannot certify it:
#   check_segment_pieces.py MODEL.onnx POINTS.npy --value NODE INDEX T  (NODE: a Relu node's name, e.g.
#                                                                          /layer4/layer4.1/relu_1/Relu)
# The regions of `relutope export --plane ... --engine segment --jsonl REGIONS.jsonl --json > SUMMARY.json`: the
# joint state at each region's interior point must be its pattern (the first record's, with its pattern_changes):
#   check_segment_pieces.py MODEL.onnx POINTS.npy --regions REGIONS.jsonl SUMMARY.json
import json, sys, numpy as np, onnx
from onnx import numpy_helper
from numpy.lib.stride_tricks import sliding_window_view
model = onnx.load(sys.argv[1]); pts = np.load(sys.argv[2])
def attrs(n): return {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
def conv(x, w, b, a):
    s = a.get('strides', [1, 1]); p = a.get('pads', [0, 0, 0, 0]); assert a.get('group', 1) == 1
    x = np.pad(x, ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])))
    kh, kw = w.shape[2:]
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::s[0], ::s[1]]  # n c oh ow kh kw
    if x.dtype == np.float64:
        y = np.einsum('ncijab,ocab->noij', win, w, optimize=True)
    else:  # einsum's BLAS path is double only; matmul keeps long double
        n, c, oh, ow = win.shape[:4]
        cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, -1)
        y = (cols @ w.reshape(w.shape[0], -1).T).reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)
    return y + (b[None, :, None, None] if b is not None else 0)
def forward(x, init, stop=None):
    """The joint state at x (1x3x224x224), or the input of Relu node `stop` (flattened) when it is given."""
    v = {model.graph.input[0].name: x}; signs = []
    for n in model.graph.node:
        a = attrs(n); i = [v.get(k, init.get(k)) for k in n.input]
        t = n.op_type
        if t == 'Conv': y = conv(i[0], i[1], i[2] if len(i) > 2 else None, a)
        elif t == 'Relu':
            if n.name == stop: return i[0].ravel()
            signs.append((i[0] > 0).ravel()); y = np.maximum(i[0], 0)
        elif t == 'MaxPool':
            k = a['kernel_shape']; s = a['strides']; p = a['pads']
            xp = np.pad(i[0], ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])), constant_values=-np.inf)
            win = sliding_window_view(xp, k, axis=(2, 3))[:, :, ::s[0], ::s[1]]
            flat = win.reshape(win.shape[:4] + (-1,)); y = flat.max(-1)
            # relutope numbers a window's inputs without its padding: the argmax's place among the valid ones
            valid = np.pad(np.ones(i[0].shape, bool), ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])))
            valid = sliding_window_view(valid, k, axis=(2, 3))[:, :, ::s[0], ::s[1]].reshape(flat.shape)
            place = np.take_along_axis(np.cumsum(valid, -1), flat.argmax(-1)[..., None], -1)[..., 0] - 1
            signs.append(place.ravel())
        elif t == 'Add': y = i[0] + i[1]
        elif t == 'Identity': y = i[0]
        elif t == 'GlobalAveragePool': y = i[0].mean(axis=(2, 3), keepdims=True)
        elif t == 'Flatten': y = i[0].reshape(i[0].shape[0], -1)
        elif t == 'Gemm': y = i[0] @ (i[1].T if a.get('transB', 0) else i[1]) + i[2]
        else: raise SystemExit('op ' + t)
        v[n.output[0]] = y
    if stop is not None: raise SystemExit('no Relu node ' + stop)
    return np.concatenate([s.astype(np.int64) for s in signs])
def weights(dtype): return {i.name: numpy_helper.to_array(i).astype(dtype) for i in model.graph.initializer}
if sys.argv[3] == '--value':
    node, index, t = sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
    for dtype in (np.float64, np.longdouble):
        o, d = pts[0].astype(dtype), pts[1].astype(dtype) - pts[0].astype(dtype)
        x = (o + dtype(t) * d).reshape(1, 3, 224, 224)
        print(f"{np.dtype(dtype).name:>10}: {node}[{index}] at t = {t!r}: {forward(x, weights(dtype), node)[index]!r}")
    sys.exit(0)
if sys.argv[3] == '--regions':
    records = [json.loads(line) for line in open(sys.argv[4])]
    summary = json.load(open(sys.argv[5])); init = weights(np.float64)
    c = np.array(summary['domain']['corners']); to_st = np.column_stack([c[1] - c[0], c[2] - c[0]])
    p0, p1, p2 = (pts[r].astype(np.float64) for r in summary['domain']['rows'])
    groups = [g.split('.') if '.' in g else list(g) for g in records[0]['pattern'].split('|')]
    first = np.array([int(x) for g in groups for x in g]); offset = np.cumsum([0] + [len(g) for g in groups])
    bad = 0
    for r in records:
        want = first.copy()
        for layer, unit, state in r['pattern_changes']: want[offset[layer] + unit] = state
        s, t = np.linalg.solve(to_st, np.array(r['interior_point']) - c[0])
        got = forward((p0 + s * (p1 - p0) + t * (p2 - p0)).reshape(1, 3, 224, 224), init)
        if got.shape != want.shape or np.count_nonzero(got != want):
            bad += 1; print(f"region {r['id']}: {np.count_nonzero(got != want) if got.shape == want.shape else got.shape} units differ")
    print(f"{'ok' if bad == 0 else 'FAILED'}: {len(records)} regions checked, {bad} disagreements")
    sys.exit(1 if bad else 0)
report = json.load(open(sys.argv[3])); init = weights(np.float64)
o, d = pts[0], pts[1] - pts[0]
ends = [report["domain"]["t_begin"]] + report["breakpoints"] + [report["domain"]["t_end"]]
assert len(ends) - 1 == report["regions"], "breakpoints and count disagree"
def state(t): return forward((o + t * d).reshape(1, 3, 224, 224), init)
previous, bad = None, 0
for k, (a, b) in enumerate(zip(ends, ends[1:])):
    middle = state((a + b) / 2)
    inside = [np.count_nonzero(state(a + f * (b - a)) != middle) for f in (0.25, 0.75)]
    if any(inside): bad += 1; print(f"piece {k} [{a:.6g}, {b:.6g}]: the state changes inside ({inside} units)")
    if previous is not None and not np.any(previous != middle): bad += 1; print(f"piece {k}: same state as piece {k - 1}")
    previous = middle
print(f"{'ok' if bad == 0 else 'FAILED'}: {report['regions']} pieces checked, {bad} disagreements")
sys.exit(1 if bad else 0)
