"""relutope: exact linear (activation) regions of ReLU networks, from Python.

A thin layer over the C++ library (relutope._relutope): the same counts, the same messages as the
``relutope`` command. A model is a path (.onnx or .json), ONNX bytes, or a ``torch.nn.Module``
(exported in memory with ``torch.onnx.export``; torch is imported only then).

    >>> import relutope
    >>> relutope.count("examples/two_moons.onnx", box="-1:1").regions

Long calls release the GIL; Ctrl-C stops them with KeyboardInterrupt. Bad input raises ValueError
with the message the CLI prints; a count that cannot be certified raises relutope.UncertifiedError.
"""
import io
import json
import operator
import os
import sys
import tempfile

from . import _relutope
from ._relutope import UncertifiedError

__version__ = _relutope.__version__
__all__ = ["count", "estimate", "regions", "bounds", "neurons", "draw", "load", "CountResult", "EstimateResult",
           "UncertifiedError"]


class CountResult:
    """The result of count(): one attribute per field of ``relutope count --json`` (same names).

    ``result.regions`` is the count; ``result.as_dict()`` gives every field, ``result["regions"]`` one.
    """

    def __init__(self, fields):
        self.__dict__.update(fields)

    def as_dict(self):
        return dict(self.__dict__)

    def __getitem__(self, key):
        return self.__dict__[key]

    def __repr__(self):
        return "CountResult(regions={}, complete={}, engine={!r}, domain={})".format(
            self.regions, self.complete, self.engine, self.domain)


class EstimateResult(CountResult):
    """The result of estimate(): one attribute per field of ``relutope estimate --json`` (same names).

    ``result.regions`` is the estimate, ``result.low`` and ``result.high`` its 95% interval.
    """

    def __repr__(self):
        return "EstimateResult(regions={:.4g}, low={:.4g}, high={:.4g}, probes={}, strata={})".format(
            self.regions, self.low, self.high, self.probes, self.strata)


def _torch_module(model):
    torch = sys.modules.get("torch")  # a torch.nn.Module can only exist once torch is imported
    return torch if torch is not None and isinstance(model, torch.nn.Module) else None


def _onnx_bytes_of_module(torch, module, example_input):
    if example_input is None:
        first = next((m for m in module.modules() if isinstance(m, torch.nn.Linear)), None)
        if first is None:
            raise ValueError("torch.nn.Module: give example_input (a tensor of shape (1, input_dim)); "
                             "the module has no nn.Linear layer to take the input size from")
        example_input = torch.zeros(1, first.in_features)
    buffer = io.BytesIO()
    was_training = module.training
    module.eval()
    try:
        torch.onnx.export(module, example_input, buffer, input_names=["input"], output_names=["output"])
    finally:
        module.train(was_training)
    return buffer.getvalue()


def load(model, example_input=None):
    """The network of ``model`` (path, ONNX bytes or torch.nn.Module) as a relutope._relutope.Network.

    Messages name the file, or ``<ONNX bytes>`` for bytes and modules.
    """
    if isinstance(model, _relutope.Network):
        return model
    if isinstance(model, (str, os.PathLike)):
        return _relutope.load_network(os.fspath(model))
    torch = _torch_module(model)
    if torch is not None:
        return _load_bytes(_onnx_bytes_of_module(torch, model, example_input))
    if isinstance(model, (bytes, bytearray, memoryview)):
        return _load_bytes(bytes(model))
    raise ValueError("model: expected a path, ONNX bytes or a torch.nn.Module, got " + type(model).__name__)


def _load_bytes(data):
    # The library reads files; the bytes go through a private temporary file.
    handle, path = tempfile.mkstemp(suffix=".onnx", prefix="relutope-")
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        try:
            return _relutope.load_network(path)
        except ValueError as error:
            raise ValueError(str(error).replace(path, "<ONNX bytes>")) from None
    finally:
        os.unlink(path)


def _box(box):
    if box is None or isinstance(box, str):
        return box
    lo, hi = box  # numbers or sequences of input_dim numbers
    as_vector = lambda v: v if isinstance(v, (int, float)) else [float(x) for x in v]
    return (as_vector(lo), as_vector(hi))


def _points(name, spec, size):
    # (points, i, j[, k]): points a path (CSV or .npy) or an n x d array; the rest row indices.
    if not isinstance(spec, (tuple, list)) or len(spec) != size:
        raise ValueError("{}: expected (points, {}), got {!r}".format(name, ", ".join("ijk"[:size - 1]), spec))
    points = spec[0]
    if isinstance(points, (str, os.PathLike)):
        points = os.fspath(points)
    else:
        import numpy
        points = numpy.asarray(points, dtype=numpy.float64)
        if points.ndim != 2:
            raise ValueError("{}: points must be a 2-D array (one point per row), got shape {}".format(
                name, points.shape))
    return (points,) + tuple(operator.index(i) for i in spec[1:])


def _where(box=None, domain=None, plane=None, line=None, plane_region="triangle", plane_scale=1.5):
    """The domain arguments, as the C++ layer's choose() reads them."""
    return {"box": _box(box), "domain": None if domain is None else os.fspath(domain),
            "plane": None if plane is None else _points("plane", plane, 4),
            "line": None if line is None else _points("line", line, 3),
            "plane_region": plane_region, "plane_scale": float(plane_scale)}


_WHERE_DOC = """
    box            "lo:hi" or "lo0:hi0,lo1:hi1,..." (the CLI's --box), or (lo, hi) with numbers or
                   input_dim-vectors; default: the model file's domain, else [-1,1]^input_dim
    domain         path of an H-polytope file (the CLI's --domain)
    plane          (points, i, j, k): the 2-D plane through rows i, j, k of points (an n x input_dim
                   array, or a CSV/.npy path), in orthonormal plane coordinates (the CLI's --plane);
                   plane_region "triangle" (the three points' triangle) or "box" (a square plane_scale
                   times its size)
    line           (points, i, j): the segment from row i to row j of points, t in [0, 1] (--line)
                   Give at most one of box, domain, plane and line. With plane or line the regions
                   are those of the network on the slice, in slice coordinates.
"""


def count(model, box=None, domain=None, plane=None, line=None, threads=0, engine="auto", tolerance=1e-9,
          exact=False, example_input=None, plane_region="triangle", plane_scale=1.5, time_limit=0, max_regions=0,
          checkpoint=None, checkpoint_every=30, resume=None):
    """Counts the linear regions of ``model`` in a domain, as ``relutope count --json``.

    model          path (.onnx/.json), ONNX bytes, or torch.nn.Module (with example_input, or the
                   input size of its first nn.Linear)
    threads        0 = all cores; engine: "auto", "vertex", "lp" or "exact"; tolerance: relative
    exact          also recount in exact rational arithmetic and certify (the CLI's --exact)
    time_limit     stop after this many seconds (0 = none; the CLI's --time-limit)
    max_regions    stop once this many regions are found (0 = none; --max-regions)
                   A run stopped by either returns normally with ``complete`` False, ``stopped`` saying
                   why, and ``regions`` a lower bound (the CLI exits 5 instead).
    checkpoint     path: save the run there every checkpoint_every seconds and when it ends or stops
                   (the CLI's --checkpoint); resume: path of a checkpoint to continue (--resume). The
                   same files as the CLI's: a run saved here resumes with ``relutope count --resume``
                   and the other way round, with any thread count. ``tasks_resumed`` says what was reused.
    Returns a CountResult with every field of ``count --json``, in its order: model, regions, input_dim,
    hidden_widths, neurons, output_dim, domain, (breakpoints, segment_length along a line), engine,
    threads, tasks, seconds, ..., (the certificate with exact), upper_bound, fraction_of_upper_bound.
    Raises ValueError for bad input, UncertifiedError, KeyboardInterrupt on Ctrl-C (also with exact).
    """
    net = load(model, example_input)
    where = _where(box, domain, plane, line, plane_region, plane_scale)
    return CountResult(json.loads(_relutope.count(net, _model_name(model, net), where, threads, engine, tolerance,
                                                  exact, time_limit, max_regions,
                                                  "" if checkpoint is None else os.fspath(checkpoint),
                                                  float(checkpoint_every), "" if resume is None else os.fspath(resume))))


count.__doc__ += _WHERE_DOC


def estimate(model, box=None, domain=None, plane=None, line=None, probes=10000, strata=0, time_budget=10, seed=0,
             threads=0, engine="auto", tolerance=1e-9, example_input=None, plane_region="triangle", plane_scale=1.5):
    """Estimates how many regions count() would find, and how long it would take, as ``relutope estimate --json``.

    probes         random probes down the search tree (at least 2)
    strata         subtrees at the top of the tree, walked exactly, to spread the probes over
                   (0 = probes / 2, at most 16384; 1 = Knuth's plain estimator)
    time_budget    start no probe after this many seconds (0 = none); seed: the probes' random choices
    Returns an EstimateResult with every field of ``estimate --json``: model, regions, low, high,
    confidence, std_error, probes, strata, seed, tree_nodes, mean_depth, count_seconds, count_threads,
    engine, seconds, domain, (upper_bound). With strata 0 in the result the tree was walked whole and
    regions is the exact count. docs/estimate.md measures how often the interval holds the count.
    """
    net = load(model, example_input)
    where = _where(box, domain, plane, line, plane_region, plane_scale)
    return EstimateResult(json.loads(_relutope.estimate(net, _model_name(model, net), where, probes, strata,
                                                        time_budget, seed, threads, engine, tolerance)))


estimate.__doc__ += _WHERE_DOC


def _model_name(model, net):
    if isinstance(model, (str, os.PathLike)):
        return os.fspath(model)
    if _torch_module(model) is not None:
        return "<torch.nn.Module {}>".format(type(model).__name__)
    if isinstance(model, _relutope.Network):
        return model.source
    return "<bytes>"


class RegionChunk:
    """Up to chunk_size regions as NumPy arrays (n regions, d inputs, m outputs, k neurons, h half-spaces):

    patterns           (n, k) uint8 per pattern entry (network order): 1 where a neuron is active
                       (pre-activation >= 0); for a Max unit its state (the index of its largest row)
    interior_points    (n, d) float64, a point strictly inside each region
    volumes            (n,) float64, NaN unless regions(..., volumes=True) (vertex engine)
    depths             (n,) float64
    map_weights        (n, m, d) float64 and map_biases (n, m): on region r, f(x) = W[r] @ x + b[r]
    halfspace_offsets  (n + 1,) int64: region r's half-spaces are rows offsets[r]:offsets[r+1] of
    halfspace_a        (h, d) float64 and halfspace_b (h,): a @ x <= b
    halfspace_layer    (h,) int32 (-1 for a face of the domain) and halfspace_neuron (h,) int32
                       (the row, or for the facet z_s >= z_j of a Max unit's piece, the unit)
    """

    def __init__(self, arrays):
        self.__dict__.update(arrays)

    def __len__(self):
        return len(self.volumes)

    def halfspaces(self, r):
        """(A, b) of region r in this chunk: A @ x <= b."""
        lo, hi = self.halfspace_offsets[r], self.halfspace_offsets[r + 1]
        return self.halfspace_a[lo:hi], self.halfspace_b[lo:hi]


def regions(model, box=None, domain=None, plane=None, line=None, threads=0, engine="auto", tolerance=1e-9,
            volumes=False, chunk_size=65536, example_input=None, plane_region="triangle", plane_scale=1.5):
    """Yields the regions of ``model`` as RegionChunk objects of at most chunk_size regions each, in
    pattern order (the same for any thread count). Memory stays bounded: enumeration waits while two
    chunks are ready and unread. Stopping early (break, close(), Ctrl-C) cancels the enumeration.
    Arguments as count(); volumes=True fills RegionChunk.volumes (vertex engine). With plane or line, the
    arrays are in slice coordinates (d = 2 or 1): x = origin + basis @ u, as count()'s domain["slice"] gives.
    """
    net = load(model, example_input)
    stream = _relutope.RegionStream(net, _where(box, domain, plane, line, plane_region, plane_scale), threads,
                                    engine, tolerance, volumes, chunk_size)
    try:
        while True:
            chunk = stream.next_chunk()
            if chunk is None:
                return
            yield RegionChunk(chunk)
    finally:
        stream.close()


def bounds(model_or_arch, example_input=None, box=None, domain=None, plane=None, line=None, plane_region="triangle",
           plane_scale=1.5):
    """The theory's bounds on the number of regions, as ``relutope bounds``: a list of dicts (id, name,
    kind, applies, reason, value as an exact decimal string, log10, verified).

    model_or_arch: an architecture "n0,n1,...,nL" (input dimension, then hidden widths), or a model
    (then the bounds use the ranks of its weights and the neurons that interval arithmetic proves dead
    or stably active on the domain: box, domain, plane or line as for count()).
    """
    if isinstance(model_or_arch, str) and not os.path.exists(model_or_arch) and "," in model_or_arch:
        return _relutope.bounds_of_architecture(model_or_arch)
    return _relutope.bounds_of_network(load(model_or_arch, example_input),
                                       _where(box, domain, plane, line, plane_region, plane_scale))


def neurons(model, box=None, domain=None, plane=None, line=None, threads=0, engine="auto", tolerance=1e-9,
            example_input=None, plane_region="triangle", plane_scale=1.5):
    """The dying-ReLU report, as ``relutope neurons``: a dict of arrays over the k entries (layer,
    neuron, state: "dead"/"stably active"/..., regions_active, volume_fraction_active), the lists
    kind ("neuron", "max" or "clip": a Hardtanh/ReLU6 is one 3-state unit), regions_in_state and
    volume_fraction_in_state (one array per entry, indexed by state; regions_active is 0 for Max and
    clip units) and the totals (regions, exact_volumes, num_samples)."""
    return _relutope.neurons(load(model, example_input), _where(box, domain, plane, line, plane_region, plane_scale),
                             threads, engine, tolerance)


def draw(model, path, box=None, color="region", width=800, threads=0, tolerance=1e-9, title="",
         example_input=None, domain=None, plane=None, plane_region="triangle", plane_scale=1.5):
    """Draws the regions of a 2-input model, or of any model on a plane (plane=(points, i, j, k)), to
    ``path`` (.png, or .svg), as ``relutope export --png``; color: "region", "output" or "class".
    box, domain, plane, plane_region and plane_scale as for count(). Returns the number of regions drawn."""
    return _relutope.draw(load(model, example_input), os.fspath(path),
                          _where(box, domain, plane, None, plane_region, plane_scale), color, width, threads, tolerance,
                          title)
