#!/usr/bin/env python3
# Independent check of relutope's certified segment walk on ResNet-18 (ctest graph.resnet18.segment_certified):
# a float64 numpy interpreter of the exported ONNX (Conv, Relu, MaxPool, Add, GlobalAveragePool, Flatten, Gemm;
# not relutope's code) gives the joint unit state (ReLU signs, MaxPool argmax) at points of the segment. It must
# be the same at a quarter, the middle and three quarters of each piece, and differ between neighbouring pieces.
#   check_segment_pieces.py MODEL.onnx POINTS.npy COUNT.json    (COUNT.json: relutope count --line 0,1 --json)
import json, sys, numpy as np, onnx
from onnx import numpy_helper
from numpy.lib.stride_tricks import sliding_window_view
model = onnx.load(sys.argv[1]); pts = np.load(sys.argv[2]); report = json.load(open(sys.argv[3]))
init = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in model.graph.initializer}
def attrs(n): return {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
def conv(x, w, b, a):
    s = a.get('strides', [1, 1]); p = a.get('pads', [0, 0, 0, 0]); assert a.get('group', 1) == 1
    x = np.pad(x, ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])))
    kh, kw = w.shape[2:]
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::s[0], ::s[1]]  # n c oh ow kh kw
    y = np.einsum('ncijab,ocab->noij', win, w, optimize=True)
    return y + (b[None, :, None, None] if b is not None else 0)
def forward(x):
    v = {model.graph.input[0].name: x}; signs = []
    for n in model.graph.node:
        a = attrs(n); i = [v.get(k, init.get(k)) for k in n.input]
        t = n.op_type
        if t == 'Conv': y = conv(i[0], i[1], i[2] if len(i) > 2 else None, a)
        elif t == 'Relu': signs.append((i[0] > 0).ravel()); y = np.maximum(i[0], 0)
        elif t == 'MaxPool':
            k = a['kernel_shape']; s = a['strides']; p = a['pads']
            xp = np.pad(i[0], ((0, 0), (0, 0), (p[0], p[2]), (p[1], p[3])), constant_values=-np.inf)
            win = sliding_window_view(xp, k, axis=(2, 3))[:, :, ::s[0], ::s[1]]
            flat = win.reshape(win.shape[:4] + (-1,)); signs.append(flat.argmax(-1).ravel()); y = flat.max(-1)
        elif t == 'Add': y = i[0] + i[1]
        elif t == 'Identity': y = i[0]
        elif t == 'GlobalAveragePool': y = i[0].mean(axis=(2, 3), keepdims=True)
        elif t == 'Flatten': y = i[0].reshape(i[0].shape[0], -1)
        elif t == 'Gemm': y = i[0] @ (i[1].T if a.get('transB', 0) else i[1]) + i[2]
        else: raise SystemExit('op ' + t)
        v[n.output[0]] = y
    return np.concatenate([s.astype(np.int64) for s in signs])
o, d = pts[0], pts[1] - pts[0]
ends = [report["domain"]["t_begin"]] + report["breakpoints"] + [report["domain"]["t_end"]]
assert len(ends) - 1 == report["regions"], "breakpoints and count disagree"
def state(t): return forward((o + t * d).reshape(1, 3, 224, 224))
previous, bad = None, 0
for k, (a, b) in enumerate(zip(ends, ends[1:])):
    middle = state((a + b) / 2)
    inside = [np.count_nonzero(state(a + f * (b - a)) != middle) for f in (0.25, 0.75)]
    if any(inside): bad += 1; print(f"piece {k} [{a:.6g}, {b:.6g}]: the state changes inside ({inside} units)")
    if previous is not None and not np.any(previous != middle): bad += 1; print(f"piece {k}: same state as piece {k - 1}")
    previous = middle
print(f"{'ok' if bad == 0 else 'FAILED'}: {report['regions']} pieces checked, {bad} disagreements")
sys.exit(1 if bad else 0)
