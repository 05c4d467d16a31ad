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
import os
import sys
import tempfile

from . import _relutope
from ._relutope import UncertifiedError

__version__ = _relutope.__version__
__all__ = ["count", "regions", "bounds", "neurons", "draw", "load", "CountResult", "UncertifiedError"]


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
        return "CountResult(regions={}, engine={!r}, domain={})".format(
            self.regions, self.engine, self.domain)


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


def count(model, box=None, domain=None, threads=0, engine="auto", tolerance=1e-9, exact=False, example_input=None):
    """Counts the linear regions of ``model`` in a domain, as ``relutope count --json``.

    model          path (.onnx/.json), ONNX bytes, or torch.nn.Module (with example_input, or the
                   input size of its first nn.Linear)
    box            "lo:hi" or "lo0:hi0,lo1:hi1,..." (the CLI's --box), or (lo, hi) with numbers or
                   input_dim-vectors; default: the model file's domain, else [-1,1]^input_dim
    domain         path of an H-polytope file (the CLI's --domain); not with box
    threads        0 = all cores; engine: "auto", "vertex", "lp" or "exact"; tolerance: relative
    exact          also recount in exact rational arithmetic and certify (the CLI's --exact)
    Returns a CountResult: regions, input_dim, hidden_widths, neurons, output_dim, domain, engine,
    threads, tasks, seconds, ..., upper_bound, fraction_of_upper_bound (and the certificate with exact).
    Raises ValueError for bad input, UncertifiedError, KeyboardInterrupt on Ctrl-C.
    """
    net = load(model, example_input)
    fields = _relutope.count(net, _box(box), None if domain is None else os.fspath(domain), threads, engine,
                             tolerance, exact)
    fields.update({"model": _model_name(model, net), "input_dim": net.input_dim, "hidden_widths": net.hidden_widths,
                   "neurons": net.num_neurons, "output_dim": net.output_dim})
    first = [key for key in _COUNT_JSON_ORDER if key in fields]
    return CountResult({key: fields[key] for key in first + sorted(set(fields) - set(first))})


# The key order of `relutope count --json`.
_COUNT_JSON_ORDER = ["model", "regions", "input_dim", "hidden_widths", "neurons", "output_dim", "domain", "engine",
                     "threads", "tasks", "seconds", "regions_per_second", "tolerance", "tolerance_abs",
                     "near_degenerate", "exact_decisions", "lps", "lp_fallbacks", "certified", "float_regions",
                     "float_missed", "float_invented", "facets_certified", "float_facets_wrong", "missed_patterns",
                     "invented_patterns", "exact_seconds", "upper_bound", "fraction_of_upper_bound"]


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

    patterns           (n, k) uint8, 1 where the neuron's pre-activation is >= 0 (network order)
    interior_points    (n, d) float64, a point strictly inside each region
    volumes            (n,) float64, NaN unless regions(..., volumes=True) (vertex engine)
    depths             (n,) float64
    map_weights        (n, m, d) float64 and map_biases (n, m): on region r, f(x) = W[r] @ x + b[r]
    halfspace_offsets  (n + 1,) int64: region r's half-spaces are rows offsets[r]:offsets[r+1] of
    halfspace_a        (h, d) float64 and halfspace_b (h,): a @ x <= b
    halfspace_layer    (h,) int32 (-1 for a face of the domain) and halfspace_neuron (h,) int32
    """

    def __init__(self, arrays):
        self.__dict__.update(arrays)

    def __len__(self):
        return len(self.volumes)

    def halfspaces(self, r):
        """(A, b) of region r in this chunk: A @ x <= b."""
        lo, hi = self.halfspace_offsets[r], self.halfspace_offsets[r + 1]
        return self.halfspace_a[lo:hi], self.halfspace_b[lo:hi]


def regions(model, box=None, domain=None, threads=0, engine="auto", tolerance=1e-9, volumes=False,
            chunk_size=65536, example_input=None):
    """Yields the regions of ``model`` as RegionChunk objects of at most chunk_size regions each, in
    pattern order (the same for any thread count). Memory stays bounded: enumeration waits while two
    chunks are ready and unread. Stopping early (break, close(), Ctrl-C) cancels the enumeration.
    Arguments as count(); volumes=True fills RegionChunk.volumes (vertex engine).
    """
    net = load(model, example_input)
    stream = _relutope.RegionStream(net, _box(box), None if domain is None else os.fspath(domain), threads,
                                    engine, tolerance, volumes, chunk_size)
    try:
        while True:
            chunk = stream.next_chunk()
            if chunk is None:
                return
            yield RegionChunk(chunk)
    finally:
        stream.close()


def bounds(model_or_arch, example_input=None):
    """The theory's bounds on the number of regions, as ``relutope bounds``: a list of dicts (id, name,
    kind, applies, reason, value as an exact decimal string, log10, verified).

    model_or_arch: an architecture "n0,n1,...,nL" (input dimension, then hidden widths), or a model
    (then the bounds use the ranks of its weights).
    """
    if isinstance(model_or_arch, str) and not os.path.exists(model_or_arch) and "," in model_or_arch:
        return _relutope.bounds_of_architecture(model_or_arch)
    return _relutope.bounds_of_network(load(model_or_arch, example_input))


def neurons(model, box=None, domain=None, threads=0, engine="auto", tolerance=1e-9, example_input=None):
    """The dying-ReLU report, as ``relutope neurons``: a dict of arrays over the k neurons (layer,
    neuron, state: "dead"/"stably active"/..., regions_active, volume_fraction_active) and the
    totals (regions, exact_volumes, num_samples)."""
    return _relutope.neurons(load(model, example_input), _box(box), None if domain is None else os.fspath(domain),
                             threads, engine, tolerance)


def draw(model, path, box=None, color="region", width=800, threads=0, tolerance=1e-9, title="",
         example_input=None):
    """Draws the regions of a 2-input model to ``path`` (.png, or .svg), as ``relutope export --png``;
    color: "region", "class" or the CLI's other --color values. Returns the number of regions drawn."""
    return _relutope.draw(load(model, example_input), os.fspath(path), _box(box), color, width, threads, tolerance,
                          title)
