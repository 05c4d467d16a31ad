#!/usr/bin/env python3
"""An independent reference count of the linear regions of an ONNX graph model on a triangle through
three data points, in exact rational arithmetic (Python's fractions), through the graph's own operations.

Usage: graph_plane_reference.py MODEL.onnx POINTS(.csv|.npy) --plane i,j,k [--plane-scale F] [--json]

It counts the same set as `relutope count MODEL --points POINTS --plane i,j,k [--plane-scale F]`: the
activation patterns whose region has positive area in the triangle x = p_i + s (p_j - p_i) + t (p_k - p_i),
s, t >= 0, s + t <= F (F = 1 by default: the whole triangle of the three points). relutope's engines
parametrise the triangle otherwise (orthonormal coordinates, or this same map carried in double-double),
but the set of inputs and hence the count are the same.

Independent of relutope: it shares no code with it and does not lower the graph to dense layers. The
model is read with the `onnx` package; every initializer and attribute is the exact rational its float32 or
float64 value is; the points are read as the doubles a CSV field or .npy entry denotes. Each value of the
graph is carried as an affine function a s + b t + c of the two plane coordinates, in Fractions, through
the graph's own operations (Gemm, MatMul, Conv with strides, pads, dilations, groups and auto_pad, pools,
Pad, Concat, Reshape, ...), evaluated as the ONNX operator specification defines them. The triangle is cut
unit by unit, in the graph's topological order, by exact half-plane clipping of convex polygons:

  - Relu, LeakyRelu, PRelu, Clip with one bound: 2 states, split by the line z = 0 (or the bound);
    a slope of exactly 1 makes the unit the identity: it does not split;
  - Clip with both bounds (Hardtanh, ReLU6): 3 states, z <= lo, lo <= z <= hi, z >= hi;
  - MaxPool windows (padded cells are not in a window) and elementwise Max: k states, piece i is where
    z_i >= z_j for every j; inputs that are the same affine function on the whole cell are one state
    there (the lowest index), so they do not split it;
  - a unit whose input is the same affine function on the whole cell never splits it (a line
    needs a non-zero gradient).

A cell is kept only if it has positive area, and the count is the number of cells left after the last
unit; nothing is merged. As a check of the reference itself, the leaves' areas must sum exactly to the
triangle's area. A smooth output head (Softmax, LogSoftmax, Sigmoid, Tanh) is left out: the regions are the
body's; a smooth operation that a unit depends on is refused.

The one convention that is not exact ONNX arithmetic: BatchNormalization's factor 1 / sqrt(var + eps) is
irrational, so the inference form y = s x + t is taken with s = gamma / sqrt(var + eps) and
t = beta - mean * s, each operation rounded to a double (as PyTorch's float64 folding and relutope's
loader compute them), and then applied exactly. Div by a constant and AveragePool divide exactly.

numpy is used to read files and to arrange arrays of Fractions (shapes, slicing, dot products of object
arrays); all arithmetic on the network's values is Fraction arithmetic.
"""
import argparse
import json
import math
import sys
import time
from fractions import Fraction as Q

import numpy as np
import onnx
from onnx import helper, numpy_helper

ZERO = Q(0)
HEADS = {"Softmax", "LogSoftmax", "Sigmoid", "Tanh"}
UNITS = {"Relu", "LeakyRelu", "PRelu", "Clip", "MaxPool", "Max"}


class ReferenceError(Exception):
    pass


class TooManyRegions(Exception):
    """More regions than the limit given to count_on_plane."""


# ------------------------------------------------------------------------------------ exact values

def fractions(a):
    """A numeric numpy array (float or int) as an object array of exact Fractions."""
    a = np.asarray(a)
    out = np.empty(a.shape, dtype=object)
    res = out.reshape(-1)
    for i, x in enumerate(a.reshape(-1).tolist()):
        if isinstance(x, float) and not math.isfinite(x):
            raise ReferenceError(f"a value is not finite: {x}")
        res[i] = Q(x)
    return out


def exact(x):
    """A constant as a Fraction array."""
    return x if (isinstance(x, np.ndarray) and x.dtype == object) else fractions(x)


def over_common(x):
    """A constant as (an object array of Python ints, their common positive denominator)."""
    q = exact(x)
    flat = q.reshape(-1).tolist()
    den = math.lcm(*[f.denominator for f in flat]) if flat else 1
    nums = np.empty(q.shape, dtype=object)
    nums.reshape(-1)[:] = [f.numerator * (den // f.denominator) for f in flat]
    return nums, den


class Aff:
    """A tensor whose values are affine functions of (s, t), over one common denominator: v has shape
    shape + (3,), Python ints, v[..., 0] the numerator of the coefficient of s, v[..., 1] of t, v[..., 2] of
    the constant; the values are v / den. (Integers rather than Fractions: the dot products of Conv and Gemm
    are then integer arithmetic, fifty times faster and just as exact.)"""
    __slots__ = ("v", "den")

    def __init__(self, v, den):
        self.v = v
        self.den = den

    @property
    def shape(self):
        return self.v.shape[:-1]

    def over(self, den):
        """The same values over a multiple `den` of the denominator."""
        if den == self.den:
            return self.v
        return self.v * (den // self.den)

    def reduced(self):
        g = math.gcd(self.den, *self.v.reshape(-1).tolist())
        return self if g == 1 else Aff(self.v // g, self.den // g)


def as_aff(x, shape=None):
    """A constant as an Aff of zero gradient."""
    nums, den = over_common(x)
    if shape is not None:
        nums = np.broadcast_to(nums, shape)
    v = np.empty(nums.shape + (3,), dtype=object)
    v[..., 0] = 0
    v[..., 1] = 0
    v[..., 2] = nums
    return Aff(v, den)


def scale_shift(x, scale=None, shift=None):
    """scale * x + shift for constants scale, shift broadcastable against x (None: 1 and 0)."""
    v, den = x.v, x.den
    if scale is not None:
        sn, sd = over_common(scale)
        shape = np.broadcast_shapes(x.shape, sn.shape)
        v = np.broadcast_to(v, shape + (3,)) * np.broadcast_to(sn, shape)[..., None]
        den = den * sd
    if shift is not None:
        tn, td = over_common(shift)
        shape = np.broadcast_shapes(v.shape[:-1], tn.shape)
        common = math.lcm(den, td)
        v = np.broadcast_to(v, shape + (3,)) * (common // den)
        v[..., 2] = v[..., 2] + np.broadcast_to(tn, shape) * (common // td)
        den = common
    return Aff(v, den).reduced()


def add_affs(a, b, sign=1):
    den = math.lcm(a.den, b.den)
    return Aff(a.over(den) + sign * b.over(den), den).reduced()


# ------------------------------------------------------------------------------- polygon clipping
# A vertex (s, t) is kept as homogeneous integers (X, Y, W), s = X / W, t = Y / W, W > 0, divided by
# gcd(X, Y, W): unique, so equal points are equal tuples. A line is the integer triple f = (a, b, c) of
# a s + b t + c (over a positive denominator, which changes no sign); its sign at a vertex is that of
# a X + b Y + c W.

def vertex(x, y, w):
    if w < 0:
        x, y, w = -x, -y, -w
    g = math.gcd(x, y, w)
    return (x // g, y // g, w // g)


def value(f, p):
    return f[0] * p[0] + f[1] * p[1] + f[2] * p[2]


def clip(poly, f, vals=None):
    """The part of the convex polygon `poly` (vertices in order) where f >= 0; vals: f at the vertices."""
    if vals is None:
        vals = [value(f, p) for p in poly]
    out = []
    n = len(poly)
    for i in range(n):
        p, q = poly[i], poly[(i + 1) % n]
        vp, vq = vals[i], vals[(i + 1) % n]
        if vp >= 0:
            out.append(p)
        if (vp > 0 and vq < 0) or (vp < 0 and vq > 0):
            # the point of pq where f = 0: (vp q - vq p) in homogeneous coordinates
            out.append(vertex(vp * q[0] - vq * p[0], vp * q[1] - vq * p[1], vp * q[2] - vq * p[2]))
    return out


def has_area(poly):
    """Whether a convex polygon (possibly with repeated or collinear vertices) has positive area: some
    three of its vertices are not collinear."""
    if len(poly) < 3:
        return False
    p0 = poly[0]
    p1 = next((p for p in poly if p != p0), None)
    if p1 is None:
        return False
    for p2 in poly:
        det = (p0[0] * (p1[1] * p2[2] - p1[2] * p2[1]) - p0[1] * (p1[0] * p2[2] - p1[2] * p2[0])
               + p0[2] * (p1[0] * p2[1] - p1[1] * p2[0]))
        if det != 0:
            return True
    return False


def twice_area(poly):
    """Twice the signed area (positive counter-clockwise), exactly."""
    a = ZERO
    for i in range(len(poly)):
        p, q = poly[i], poly[(i + 1) % len(poly)]
        a += Q(p[0] * q[1] - q[0] * p[1], p[2] * q[2])
    return a


def sub(f, g):
    return (f[0] - g[0], f[1] - g[1], f[2] - g[2])


def is_constant(f):
    return f[0] == 0 and f[1] == 0


# ---------------------------------------------------------------------------------------- units
# A unit is split(cell) -> [(piece, output affine function)], pieces of positive area covering the cell.

def split_two(cell, z, below, above):
    """2 states by the sign of z: output `below` where z <= 0, `above` where z >= 0."""
    if is_constant(z):
        return [(cell, above if z[2] >= 0 else below)]
    vals = [value(z, p) for p in cell]
    if all(v >= 0 for v in vals):
        return [(cell, above)]
    if all(v <= 0 for v in vals):
        return [(cell, below)]
    # a vertex strictly on each side: both pieces have positive area (the cell is convex)
    return [(clip(cell, z, vals), above), (clip(cell, (-z[0], -z[1], -z[2]), [-v for v in vals]), below)]


def split_clip(cell, z, lo, hi):
    """Clip(z, lo, hi); lo or hi may be None (one bound: 2 states)."""
    if lo is not None and hi is not None and lo > hi:
        raise ReferenceError(f"Clip with min {lo} > max {hi}")
    if lo is None and hi is None:
        return [(cell, z)]
    if lo is None:  # min(z, hi)
        return split_two(cell, (-z[0], -z[1], hi - z[2]), (0, 0, hi), z)
    if hi is None:  # max(z, lo)
        return split_two(cell, (z[0], z[1], z[2] - lo), (0, 0, lo), z)
    out = []
    for piece, res in split_two(cell, (z[0], z[1], z[2] - lo), (0, 0, lo), None):
        if res is not None:
            out.append((piece, res))
        else:
            out.extend(split_two(piece, (-z[0], -z[1], hi - z[2]), (0, 0, hi), z))
    return out


def split_max(cell, zs):
    """k states: piece i where z_i >= z_j for all j; identical inputs are one state (the lowest index)."""
    distinct = []
    for z in zs:
        if z not in distinct:
            distinct.append(z)
    if len(distinct) == 1:
        return [(cell, distinct[0])]
    vals = [[value(z, p) for p in cell] for z in distinct]
    for i, vi in enumerate(vals):
        if all(all(vi[m] >= vj[m] for m in range(len(cell))) for j, vj in enumerate(vals) if j != i):
            return [(cell, distinct[i])]
    out = []
    for i, zi in enumerate(distinct):
        piece = cell
        for j, zj in enumerate(distinct):
            if j != i:
                piece = clip(piece, sub(zi, zj))
                if len(piece) < 3:
                    break
        if has_area(piece):
            out.append((piece, zi))
    return out


# ---------------------------------------------------------------------------------- the ONNX graph

def attrs_of(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def node_inputs(node):
    """The values a node reads: its inputs, and for If those its branches read from the outer graph."""
    inputs = list(node.input)
    for a in node.attribute:
        if a.type == onnx.AttributeProto.GRAPH:
            inner = {o for n in a.g.node for o in n.output}
            inputs += [x for n in a.g.node for x in node_inputs(n) if x not in inner]
    return inputs


def axis_of(axis, rank):
    return axis + rank if axis < 0 else axis


class Graph:
    def __init__(self, path):
        self.path = path
        model = onnx.load(path)
        self.opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13)
        g = model.graph
        self.consts = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        inputs = [i for i in g.input if i.name not in self.consts]
        if len(inputs) != 1:
            raise ReferenceError(f"{path}: expected one graph input, got {len(inputs)}")
        self.input = inputs[0].name
        dims = inputs[0].type.tensor_type.shape.dim
        self.input_shape = tuple([1] + [d.dim_value for d in dims[1:]])
        if any(n <= 0 for n in self.input_shape):
            raise ReferenceError(f"{path}: input {self.input} has a dynamic dimension other than the batch")
        self.nodes = list(g.node)
        self._fold_constants()
        self._mark_needed()

    def _fold_constants(self):
        """Evaluates the nodes that do not depend on the input (shape chains, Constant nodes) once."""
        for node in self.nodes:
            if all(i == "" or i in self.consts for i in node_inputs(node)) and node.op_type not in UNITS | HEADS:
                outs = eval_node(self, node, self.consts)
                for name, val in zip(node.output, outs):
                    self.consts[name] = val

    def _mark_needed(self):
        """The nodes a unit depends on (and the units), in topological order; the rest (affine
        tails, heads) does not change the regions."""
        producer = {}
        for idx, node in enumerate(self.nodes):
            for o in node.output:
                producer[o] = idx
        needed = set()
        stack = [i for i, n in enumerate(self.nodes) if n.op_type in UNITS and not all(
            x == "" or x in self.consts for x in n.input)]
        while stack:
            i = stack.pop()
            if i in needed:
                continue
            needed.add(i)
            node = self.nodes[i]
            for x in node_inputs(node):
                if x in producer and x not in self.consts:
                    stack.append(producer[x])
        self.order = [i for i in range(len(self.nodes)) if i in needed and not all(
            o in self.consts for o in self.nodes[i].output)]
        for i in self.order:
            if self.nodes[i].op_type in HEADS:
                raise ReferenceError(f"{self.path}: node {self.nodes[i].name!r} ({self.nodes[i].op_type}) is smooth "
                                     "and a piecewise-linear unit depends on it")


# ------------------------------------------------------------------------------ operator semantics

def window_geometry(attrs, spatial_in, kernel, node):
    """(out sizes, begin pads, strides, dilations) of a Conv or pool over spatial_in."""
    r = len(spatial_in)
    strides = list(attrs.get("strides", [1] * r))
    dil = list(attrs.get("dilations", [1] * r))
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if attrs.get("ceil_mode", 0):
        raise ReferenceError(f"node {node.name!r}: ceil_mode=1 is not supported by the reference")
    out, begin = [], []
    for a in range(r):
        n, k, st, d = spatial_in[a], kernel[a], strides[a], dil[a]
        ext = (k - 1) * d + 1
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            o = -(-n // st)
            total = max((o - 1) * st + ext - n, 0)
            b = total // 2 if auto == "SAME_UPPER" else total - total // 2
        elif auto == "VALID":
            o, b = (n - ext) // st + 1, 0
        else:
            pads = list(attrs.get("pads", [0] * (2 * r)))
            b = pads[a]
            o = (n + pads[a] + pads[a + r] - ext) // st + 1
        out.append(o)
        begin.append(b)
    return out, begin, strides, dil


def conv(x, w, b, attrs, node):
    """ONNX Conv of Aff x [1, C, spatial...] by the constant weight w [M, C/group, k...] (1-D or 2-D)."""
    xv = x.v
    r = xv.ndim - 3
    if r not in (1, 2):
        raise ReferenceError(f"node {node.name!r}: Conv over {r} spatial axes is not supported by the reference")
    if r == 1:
        xv = xv[:, :, None, :, :]
        w = w[:, :, None, :]
    n, c, h, wd = xv.shape[:4]
    m, cg, kh, kw = w.shape
    group = attrs.get("group", 1)
    if r == 1:
        attrs = dict(attrs)
        for key in ("strides", "dilations"):
            if key in attrs:
                attrs[key] = [1] + list(attrs[key])
        if "pads" in attrs:
            p = list(attrs["pads"])
            attrs["pads"] = [0, p[0], 0, p[1]]
    (oh, ow), (ph, pw), (sh, sw), (dh, dw) = window_geometry(attrs, [h, wd], [kh, kw], node)
    if cg * group != c or m % group:
        raise ReferenceError(f"node {node.name!r}: weight of shape {w.shape} does not fit {c} channels in {group} groups")
    # zero padding, large enough for every window
    hp, wp = max(h + ph, (oh - 1) * sh + (kh - 1) * dh + 1), max(wd + pw, (ow - 1) * sw + (kw - 1) * dw + 1)
    padded = np.full((n, c, hp, wp, 3), 0, dtype=object)
    padded[:, :, ph:ph + h, pw:pw + wd, :] = xv
    wq, wden = over_common(w)
    out = np.full((n, m, oh, ow, 3), 0, dtype=object)
    mg = m // group
    for g in range(group):
        for p in range(kh):
            for q in range(kw):
                patch = padded[:, g * cg:(g + 1) * cg, p * dh:p * dh + (oh - 1) * sh + 1:sh,
                               q * dw:q * dw + (ow - 1) * sw + 1:sw, :]  # [n, cg, oh, ow, 3]
                contrib = np.tensordot(wq[g * mg:(g + 1) * mg, :, p, q], patch, axes=([1], [1]))  # [mg, n, oh, ow, 3]
                out[:, g * mg:(g + 1) * mg] += np.moveaxis(contrib, 0, 1)
    if r == 1:
        out = out[:, :, 0]
    y = Aff(out, x.den * wden)
    if b is not None:
        y = scale_shift(y, shift=exact(b).reshape((m,) + (1,) * r))
    return y.reduced()


def pool_windows(shape, attrs, node, global_pool=False):
    """Per output position of a pool over [1, C, spatial...]: (output index, entries inside the input,
    number of positions the window covers with padding)."""
    spatial = list(shape[2:])
    if global_pool:
        kernel = spatial
        attrs = {}
    else:
        kernel = list(attrs["kernel_shape"])
    out, begin, strides, dil = window_geometry(attrs, spatial, kernel, node)
    windows = []
    for c in range(shape[1]):
        for pos in np.ndindex(*out):
            entries, covered = [], 1
            for k in kernel:
                covered *= k
            for off in np.ndindex(*kernel):
                idx = [pos[a] * strides[a] - begin[a] + off[a] * dil[a] for a in range(len(spatial))]
                if all(0 <= idx[a] < spatial[a] for a in range(len(spatial))):
                    entries.append((0, c) + tuple(idx))
            windows.append(((0, c) + tuple(pos), entries, covered))
    return (shape[0], shape[1]) + tuple(out), windows


def average_pool(x, attrs, node, global_pool=False):
    out_shape, windows = pool_windows(x.shape, attrs, node, global_pool)
    include_pad = (not global_pool) and attrs.get("count_include_pad", 0)
    divisors = [covered if include_pad else len(entries) for _, entries, covered in windows]
    if min(divisors) == 0:
        raise ReferenceError(f"node {node.name!r}: a pooling window holds no input")
    common = math.lcm(*divisors)
    v = np.empty(out_shape + (3,), dtype=object)
    for (pos, entries, _), div in zip(windows, divisors):
        total = [0, 0, 0]
        for e in entries:
            for k in range(3):
                total[k] += x.v[e][k]
        v[pos] = [t * (common // div) for t in total]
    return Aff(v, x.den * common).reduced()


def broadcast_shape(a, b):
    return np.broadcast_shapes(tuple(a), tuple(b))


def binary(op, a, b, node):
    """Add, Sub, Mul, Div with numpy broadcasting; at least one of a, b is an Aff."""
    if isinstance(a, Aff) and isinstance(b, Aff):
        if op in ("Add", "Sub"):
            shape = broadcast_shape(a.shape, b.shape)
            a = Aff(np.broadcast_to(a.v, shape + (3,)), a.den)
            b = Aff(np.broadcast_to(b.v, shape + (3,)), b.den)
            return add_affs(a, b, 1 if op == "Add" else -1)
        raise ReferenceError(f"node {node.name!r}: {op} of two values computed from the input is not piecewise linear")
    if isinstance(a, Aff):
        c = exact(b)
        if op == "Add":
            return scale_shift(a, shift=c)
        if op == "Sub":
            return scale_shift(a, shift=-c)
        if op == "Mul":
            return scale_shift(a, scale=c)
        if any(x == 0 for x in c.reshape(-1)):
            raise ReferenceError(f"node {node.name!r}: division by zero")
        return scale_shift(a, scale=1 / c)
    c = exact(a)
    if op == "Add":
        return scale_shift(b, shift=c)
    if op == "Sub":
        return scale_shift(b, scale=np.array(-1), shift=c)
    if op == "Mul":
        return scale_shift(b, scale=c)
    raise ReferenceError(f"node {node.name!r}: Div of a constant by a value computed from the input")


def data(x):
    """The array that shape operations act on, and its rank (an Aff's trailing axis is not a tensor axis)."""
    return (x.v, x.v.ndim - 1) if isinstance(x, Aff) else (x, x.ndim)


def wrap(x, arr):
    return Aff(arr, x.den) if isinstance(x, Aff) else arr


def ints(x):
    return [int(i) for i in np.asarray(x).reshape(-1)]


def reshape_target(shape, target, allowzero=0):
    out = []
    for i, d in enumerate(target):
        out.append(shape[i] if d == 0 and not allowzero else d)
    if -1 in out:
        known = 1
        for d in out:
            if d != -1:
                known *= d
        out[out.index(-1)] = int(np.prod(shape)) // known
    return out


def input_value(graph, node, env, i):
    """Input i of `node`: a constant, a computed value (from env), or None where it is left out."""
    name = node.input[i] if i < len(node.input) else ""
    if name == "":
        return None
    if name in graph.consts:
        return graph.consts[name]
    if name in env:
        return env[name]
    raise ReferenceError(f"node {node.name!r}: input {name!r} is not computed")


def eval_node(graph, node, env):
    """The outputs of one affine or shape node (not a unit) given its inputs in env."""
    op = node.op_type
    attrs = attrs_of(node)

    def get(i):
        return input_value(graph, node, env, i)

    x = get(0) if len(node.input) else None
    if op == "Constant":
        if "value" in attrs:
            return [numpy_helper.to_array(attrs["value"])]
        for key, dtype in (("value_float", np.float32), ("value_int", np.int64)):
            if key in attrs:
                return [np.array(attrs[key], dtype=dtype)]
        for key, dtype in (("value_floats", np.float32), ("value_ints", np.int64)):
            if key in attrs:
                return [np.array(list(attrs[key]), dtype=dtype)]
        raise ReferenceError(f"node {node.name!r}: Constant without a supported value")
    if op in ("Identity", "Dropout"):
        return [x] + [None] * (len(node.output) - 1)
    if op == "Shape":
        start, end = attrs.get("start", 0), attrs.get("end", None)
        return [np.array(list(x.shape)[start:end], dtype=np.int64)]
    if op == "Cast":
        if isinstance(x, Aff):
            raise ReferenceError(f"node {node.name!r}: Cast of a value computed from the input")
        to = attrs["to"]
        if hasattr(helper, "tensor_dtype_to_np_dtype"):
            return [x.astype(helper.tensor_dtype_to_np_dtype(to))]
        return [x.astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[to])]
    if op == "Equal":
        return [np.equal(x, get(1))]
    if op == "ConstantOfShape":
        val = numpy_helper.to_array(attrs["value"]) if "value" in attrs else np.zeros(1, dtype=np.float32)
        return [np.full(ints(x), val.reshape(-1)[0], dtype=val.dtype)]
    if op == "Range":
        return [np.arange(get(0), get(1), get(2))]
    if op in ("Add", "Sub", "Mul", "Div"):
        a, b = x, get(1)
        if not isinstance(a, Aff) and not isinstance(b, Aff):
            fn = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}.get(op)
            if fn is not None:
                return [fn(a, b)]
            if np.issubdtype(a.dtype, np.integer):
                return [np.trunc(a / b).astype(a.dtype)]
            return [np.divide(a, b)]
        return [binary(op, a, b, node)]
    if op == "Gemm":
        if attrs.get("transA", 0):
            raise ReferenceError(f"node {node.name!r}: Gemm with transA=1")
        w, wden = over_common(get(1))
        if attrs.get("transB", 0):
            w = w.T
        alpha, beta = Q(float(attrs.get("alpha", 1.0))), Q(float(attrs.get("beta", 1.0)))
        y = Aff(np.moveaxis(np.tensordot(x.v, w, axes=([1], [0])), -1, 1), x.den * wden)  # [m, n, 3]
        c = get(2)
        return [scale_shift(y, scale=None if alpha == 1 else np.array([alpha], dtype=object),
                            shift=None if c is None else beta * exact(c))]
    if op == "MatMul":
        w = get(1)
        if isinstance(w, Aff):
            raise ReferenceError(f"node {node.name!r}: MatMul of two values computed from the input")
        if np.ndim(w) != 2:
            raise ReferenceError(f"node {node.name!r}: MatMul by a weight of rank {np.ndim(w)}")
        w, wden = over_common(w)
        v = np.moveaxis(np.tensordot(x.v, w, axes=([x.v.ndim - 2], [0])), -1, -2)
        return [Aff(v, x.den * wden).reduced()]
    if op == "Conv":
        w = get(1)
        if isinstance(w, Aff):
            raise ReferenceError(f"node {node.name!r}: Conv weight computed from the input")
        return [conv(x, w, get(2), attrs, node)]
    if op == "BatchNormalization":
        if attrs.get("training_mode", 0):
            raise ReferenceError(f"node {node.name!r}: BatchNormalization in training mode")
        gamma, beta, mean, var = (np.asarray(get(i), dtype=np.float64).tolist() for i in range(1, 5))
        eps = float(np.float32(attrs.get("epsilon", 1e-5)))
        scale = [g / math.sqrt(v + eps) for g, v in zip(gamma, var)]  # each operation rounded to a double
        shift = [b - m * s for b, m, s in zip(beta, mean, scale)]
        shape = [1, len(scale)] + [1] * (len(x.shape) - 2)
        y = scale_shift(x, scale=np.array(scale).reshape(shape), shift=np.array(shift).reshape(shape))
        return [y] + [None] * (len(node.output) - 1)
    if op == "AveragePool":
        return [average_pool(x, attrs, node)]
    if op == "GlobalAveragePool":
        return [average_pool(x, attrs, node, global_pool=True)]
    if op == "Pad":
        mode = attrs.get("mode", b"constant")
        mode = mode.decode() if isinstance(mode, bytes) else mode
        if mode != "constant":
            raise ReferenceError(f"node {node.name!r}: Pad mode {mode}")
        arr, rank = data(x)
        if graph.opset >= 11:
            pads = ints(get(1))
            cval = get(2)
            if len(node.input) > 3 and node.input[3]:
                raise ReferenceError(f"node {node.name!r}: Pad with axes")
        else:
            pads = list(attrs["pads"])
            cval = np.array(attrs.get("value", 0.0), dtype=np.float32)
        cval = Q(0) if cval is None else Q(np.asarray(cval).reshape(-1)[0].item())
        if any(p < 0 for p in pads):
            raise ReferenceError(f"node {node.name!r}: negative pads")
        if isinstance(x, Aff):
            den = math.lcm(x.den, cval.denominator)
            shape = [d + pads[a] + pads[a + rank] for a, d in enumerate(x.shape)]
            v = np.empty(tuple(shape) + (3,), dtype=object)
            v[..., 0] = 0
            v[..., 1] = 0
            v[..., 2] = cval.numerator * (den // cval.denominator)
            v[tuple(slice(pads[a], pads[a] + d) for a, d in enumerate(x.shape))] = x.over(den)
            return [Aff(v, den).reduced()]
        return [np.pad(x, [(pads[a], pads[a + rank]) for a in range(rank)], constant_values=float(cval))]
    if op == "Concat":
        vals = [get(i) for i in range(len(node.input))]
        if any(isinstance(v, Aff) for v in vals):
            vals = [v if isinstance(v, Aff) else as_aff(v) for v in vals]
            rank = len(vals[0].shape)
            den = math.lcm(*[v.den for v in vals])
            return [Aff(np.concatenate([v.over(den) for v in vals], axis=axis_of(attrs["axis"], rank)), den).reduced()]
        return [np.concatenate(vals, axis=axis_of(attrs["axis"], vals[0].ndim))]
    if op == "Split":
        arr, rank = data(x)
        axis = axis_of(attrs.get("axis", 0), rank)
        if "split" in attrs:
            sizes = list(attrs["split"])
        elif len(node.input) > 1 and node.input[1]:
            sizes = ints(get(1))
        else:
            n = len(node.output)
            sizes = [-(-arr.shape[axis] // n)] * n
            sizes[-1] = arr.shape[axis] - sum(sizes[:-1])
        outs, start = [], 0
        for s in sizes:
            idx = [slice(None)] * arr.ndim
            idx[axis] = slice(start, start + s)
            outs.append(wrap(x, arr[tuple(idx)]))
            start += s
        return outs
    if op == "Slice":
        arr, rank = data(x)
        if graph.opset >= 10:
            starts, ends = ints(get(1)), ints(get(2))
            axes = ints(get(3)) if get(3) is not None else list(range(len(starts)))
            steps = ints(get(4)) if get(4) is not None else [1] * len(starts)
        else:
            starts, ends = list(attrs["starts"]), list(attrs["ends"])
            axes = list(attrs.get("axes", range(len(starts))))
            steps = [1] * len(starts)
        idx = [slice(None)] * arr.ndim
        for st, en, ax, sp in zip(starts, ends, axes, steps):
            ax = axis_of(ax, rank)
            dim = arr.shape[ax]
            # ONNX clamps starts and ends; Python slices do too, except for ends below -dim with a
            # negative step, which mean "through index 0"
            if sp < 0 and en < -dim:
                en = None
            idx[ax] = slice(max(min(st, 2 ** 62), -2 ** 62), None if en is None else max(min(en, 2 ** 62), -2 ** 62), sp)
        return [wrap(x, arr[tuple(idx)])]
    if op == "Transpose":
        arr, rank = data(x)
        perm = list(attrs.get("perm", list(range(rank))[::-1]))
        return [wrap(x, np.transpose(arr, perm + list(range(rank, arr.ndim))))]
    if op == "Reshape":
        arr, rank = data(x)
        target = reshape_target(list(arr.shape[:rank]), ints(get(1)), attrs.get("allowzero", 0))
        return [wrap(x, arr.reshape(tuple(target) + tuple(arr.shape[rank:])))]
    if op == "Flatten":
        arr, rank = data(x)
        axis = axis_of(attrs.get("axis", 1), rank)
        shape = arr.shape[:rank]
        target = (int(np.prod(shape[:axis])), int(np.prod(shape[axis:])))
        return [wrap(x, arr.reshape(target + tuple(arr.shape[rank:])))]
    if op in ("Squeeze", "Unsqueeze"):
        arr, rank = data(x)
        axes = list(attrs["axes"]) if "axes" in attrs else (ints(get(1)) if get(1) is not None else None)
        if op == "Squeeze":
            if axes is None:
                axes = [a for a in range(rank) if arr.shape[a] == 1]
            axes = [axis_of(a, rank) for a in axes]
            return [wrap(x, np.squeeze(arr, axis=tuple(axes)))]
        out_rank = rank + len(axes)
        axes = sorted(axis_of(a, out_rank) for a in axes)
        for a in axes:
            arr = np.expand_dims(arr, a)
        return [wrap(x, arr)]
    if op == "Gather":
        arr, rank = data(x)
        ind = get(1)
        if isinstance(ind, Aff):
            raise ReferenceError(f"node {node.name!r}: Gather with indices computed from the input")
        axis = axis_of(attrs.get("axis", 0), rank)
        ind = np.asarray(ind)
        ind = np.where(ind < 0, ind + arr.shape[axis], ind)
        return [wrap(x, np.take(arr, ind, axis=axis))]
    if op == "Expand":
        arr, rank = data(x)
        shape = broadcast_shape(arr.shape[:rank], ints(get(1)))
        return [wrap(x, np.broadcast_to(arr, tuple(shape) + tuple(arr.shape[rank:])).copy())]
    if op == "If":
        cond = x
        if isinstance(cond, Aff):
            raise ReferenceError(f"node {node.name!r}: If on a value computed from the input")
        branch = attrs["then_branch"] if bool(np.asarray(cond).reshape(-1)[0]) else attrs["else_branch"]
        inner = dict(env)
        for sub_node in branch.node:
            if sub_node.op_type in UNITS | HEADS:
                raise ReferenceError(f"node {node.name!r}: a unit inside an If branch")
            for name, val in zip(sub_node.output, eval_node(graph, sub_node, inner)):
                inner[name] = val
        return [inner[o.name] if o.name in inner else graph.consts[o.name] for o in branch.output]
    if op in ("Relu", "LeakyRelu", "PRelu", "Clip", "Max", "Min") and not any(isinstance(get(i), Aff) for i in range(len(node.input))):
        return [constant_unit(op, node, attrs, [get(i) for i in range(len(node.input))])]
    raise ReferenceError(f"node {node.name!r}: op type {op} is not supported by the reference")


def constant_unit(op, node, attrs, ins):
    x = ins[0]
    if op == "Relu":
        return np.maximum(x, 0)
    if op == "LeakyRelu":
        return np.where(x >= 0, x, x * attrs.get("alpha", 0.01))
    if op == "PRelu":
        return np.where(x >= 0, x, x * ins[1])
    if op == "Clip":
        return np.clip(x, ins[1] if len(ins) > 1 and ins[1] is not None else None,
                       ins[2] if len(ins) > 2 and ins[2] is not None else None)
    out = ins[0]
    for y in ins[1:]:
        out = np.maximum(out, y) if op == "Max" else np.minimum(out, y)
    return out


# ------------------------------------------------------------------------------ the units of a node

def units_of(graph, node, env):
    """(output shape, output denominator, [split function per output element, row-major]) of a unit node
    on the current cell: split(cell) -> [(piece, output numerators (a, b, c))]. The lines are the input's
    integer numerators: a positive factor moves no line."""
    op = node.op_type
    attrs = attrs_of(node)

    def get(i):
        return input_value(graph, node, env, i)

    def constant(i):
        c = get(i)
        if isinstance(c, Aff):
            raise ReferenceError(f"node {node.name!r}: input {node.input[i]!r} is computed from the input; "
                                 "the reference supports a constant there")
        return c

    def rows(v):
        return [tuple(r) for r in v.reshape(-1, 3).tolist()]

    x = get(0)
    if op == "Relu":
        return x.shape, x.den, [lambda cell, z=z: split_two(cell, z, (0, 0, 0), z) for z in rows(x.v)]
    if op in ("LeakyRelu", "PRelu"):
        slope = np.array(float(attrs.get("alpha", 0.01)), dtype=np.float32) if op == "LeakyRelu" else constant(1)
        shape = broadcast_shape(x.shape, np.shape(slope))
        num, den = over_common(np.broadcast_to(exact(slope), shape))
        v = np.broadcast_to(x.v, shape + (3,)) * den  # over x.den * den: the slope's numerator times x's
        units = []
        for z, zx, a in zip(rows(v), rows(np.broadcast_to(x.v, shape + (3,))), num.reshape(-1).tolist()):
            if a == den:  # slope 1: the identity, no unit
                units.append(lambda cell, z=z: [(cell, z)])
            else:
                units.append(lambda cell, z=z, off=(a * zx[0], a * zx[1], a * zx[2]): split_two(cell, z, off, z))
        return shape, x.den * den, units
    if op == "Clip":
        if graph.opset >= 11:
            lo, hi = constant(1), constant(2)
            lo = None if lo is None else Q(np.asarray(lo).reshape(-1)[0].item())
            hi = None if hi is None else Q(np.asarray(hi).reshape(-1)[0].item())
        else:
            lo = Q(float(attrs["min"])) if "min" in attrs else None
            hi = Q(float(attrs["max"])) if "max" in attrs else None
        den = math.lcm(x.den, *[b.denominator for b in (lo, hi) if b is not None])
        lo_n = None if lo is None else lo.numerator * (den // lo.denominator)
        hi_n = None if hi is None else hi.numerator * (den // hi.denominator)
        return x.shape, den, [lambda cell, z=z: split_clip(cell, z, lo_n, hi_n) for z in rows(x.over(den))]
    if op == "Max":
        ins = [get(i) for i in range(len(node.input))]
        ins = [y if isinstance(y, Aff) else as_aff(y) for y in ins]
        shape = ins[0].shape
        for y in ins[1:]:
            shape = broadcast_shape(shape, y.shape)
        den = math.lcm(*[y.den for y in ins])
        cols = [rows(np.broadcast_to(y.over(den), shape + (3,))) for y in ins]
        return shape, den, [lambda cell, zs=zs: split_max(cell, list(zs)) for zs in zip(*cols)]
    if op == "MaxPool":
        if len(node.output) > 1 and node.output[1]:
            raise ReferenceError(f"node {node.name!r}: MaxPool's Indices output")
        if attrs.get("storage_order", 0):
            raise ReferenceError(f"node {node.name!r}: storage_order")
        out_shape, windows = pool_windows(x.shape, attrs, node)
        units = []
        for _, entries, _ in windows:
            zs = [tuple(x.v[e].tolist()) for e in entries]
            units.append(lambda cell, zs=zs: split_max(cell, zs))
        return out_shape, x.den, units
    raise ReferenceError(f"node {node.name!r}: op type {op} is not a unit")


# ------------------------------------------------------------------------------ the walk

class Walk:
    def __init__(self, graph, origin, d1, d2, corners, progress=False, limit=None):
        self.graph = graph
        self.limit = limit
        self.corners = corners
        self.count = 0
        self.area = ZERO  # twice the area of the cells counted
        self.units = 0
        self.splits = 0
        self.progress = progress
        self.started = time.time()
        n = len(origin)
        size = int(np.prod(graph.input_shape))
        if n != size:
            raise ReferenceError(f"points have {n} coordinates but {graph.path} has {size} inputs")
        q = np.empty((n, 3), dtype=object)
        for i in range(n):
            q[i] = (d1[i], d2[i], origin[i])
        v, den = over_common(q)
        self.input = Aff(v.reshape(tuple(graph.input_shape) + (3,)), den)

    def run(self):
        env = {self.graph.input: self.input}
        sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))
        self.walk(0, env, list(self.corners))
        return self.count

    def walk(self, k, env, cell):
        g = self.graph
        while k < len(g.order):
            node = g.nodes[g.order[k]]
            if node.op_type in UNITS and any(isinstance(env.get(i), Aff) for i in node.input):
                shape, den, units = units_of(g, node, env)
                self.units += len(units)
                # Decide the node's units one after the other on every cell (breadth first), then go on
                # with each cell and its outputs.
                cells = [(cell, None)]
                for split in units:
                    nxt = []
                    for c, outs in cells:
                        pieces = split(c)
                        self.splits += len(pieces) - 1
                        for piece, res in pieces:
                            nxt.append((piece, (res, outs)))
                    cells = nxt
                name = node.output[0]
                for c, outs in cells:
                    flat = []
                    while outs is not None:
                        flat.append(outs[0])
                        outs = outs[1]
                    flat.reverse()
                    v = np.empty((len(flat), 3), dtype=object)
                    for i, f in enumerate(flat):
                        v[i] = f
                    env[name] = Aff(v.reshape(tuple(shape) + (3,)), den)
                    self.walk(k + 1, env, c)
                return
            for name, val in zip(node.output, eval_node(g, node, env)):
                if name:
                    env[name] = val
            k += 1
        a = twice_area(cell)
        if a <= 0 or not has_area(cell):
            raise ReferenceError("internal: a cell of zero area was counted")
        self.count += 1
        if self.limit is not None and self.count > self.limit:
            raise TooManyRegions(f"more than {self.limit} regions")
        self.area += a
        if self.progress and self.count % 1000 == 0:
            print(f"  {self.count} regions, {float(self.area / twice_area(self.corners)):.3%} of the area, "
                  f"{time.time() - self.started:.0f} s", file=sys.stderr)


# ------------------------------------------------------------------------------ points and the plane

def load_points(path):
    """Rows of a CSV (commas, semicolons, tabs or spaces; blank and # lines and a header skipped) or of a
    2-D .npy array, as lists of exact Fractions (of the doubles they denote)."""
    if path.endswith(".npy"):
        a = np.load(path, allow_pickle=False)
        if a.ndim != 2:
            raise ReferenceError(f"{path}: expected a 2-D array")
        return [[Q(x) for x in row] for row in a.astype(np.float64).tolist()] if a.dtype.kind == "f" else \
            [[Q(int(x)) for x in row] for row in a.tolist()]
    rows = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            for sep in (",", ";", "\t", None):
                if sep is None or sep in line:
                    fields = line.split(sep)
                    break
            try:
                rows.append([Q(float(x)) for x in fields])
            except ValueError:
                if rows:
                    raise ReferenceError(f"{path}:{number}: not a number")
                continue  # a header
    return rows


def plane_triangle(points, rows, scale):
    p0, p1, p2 = (points[r] for r in rows)
    d1 = [b - a for a, b in zip(p0, p1)]
    d2 = [c - a for a, c in zip(p0, p2)]
    corners = [(0, 0, 1), vertex(scale.numerator, 0, scale.denominator), vertex(0, scale.numerator, scale.denominator)]
    return p0, d1, d2, corners


def count_on_plane(model, points_path, rows, scale=1.0, progress=False, limit=None):
    """Regions (and statistics) of `model` on the triangle through rows of the points file.
    @throws TooManyRegions once more than `limit` regions are found (if given)"""
    graph = Graph(model)
    points = load_points(points_path)
    for r in rows:
        if not 0 <= r < len(points):
            raise ReferenceError(f"--plane: {r} is not a row of {points_path}")
    q = Q(float(scale))
    if not 0 < q <= 1:
        raise ReferenceError(f"--plane-scale: expected a number in (0, 1], got {scale}")
    origin, d1, d2, corners = plane_triangle(points, rows, q)
    walk = Walk(graph, origin, d1, d2, corners, progress, limit)
    started = time.time()
    walk.run()
    if walk.area != twice_area(corners):
        raise ReferenceError(f"internal: the cells cover {walk.area} of twice the area {twice_area(corners)}")
    return {"regions": walk.count, "units": walk.units, "seconds": time.time() - started}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("points")
    parser.add_argument("--plane", required=True, help="i,j,k: rows of the points file")
    parser.add_argument("--plane-scale", type=float, default=1.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()
    rows = [int(r) for r in args.plane.split(",")]
    if len(rows) != 3:
        parser.error("--plane: expected i,j,k")
    try:
        result = count_on_plane(args.model, args.points, rows, args.plane_scale, args.progress)
    except ReferenceError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result) if args.json else f"{result['regions']} regions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
