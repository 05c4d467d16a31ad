"""Tests of the Python module (run by ctest as python.pytest, with PYTHONPATH at build/python).

The CLI is the reference: the same model gives the same count and the same message. RELUTOPE_CLI and
RELUTOPE_SOURCE_DIR come from ctest (python/CMakeLists.txt).
"""
import _thread
import copy
import json
import os
import subprocess
import threading
import time

import numpy as np
import pytest

import relutope

SOURCE = os.environ.get("RELUTOPE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.environ.get("RELUTOPE_CLI", "")
MOONS = os.path.join(SOURCE, "examples", "two_moons.onnx")
BAD = os.path.join(SOURCE, "tests", "data", "bad")
needs_cli = pytest.mark.skipif(not CLI, reason="the relutope command was not built")


def cli(*args):
    return subprocess.run([CLI, *args], capture_output=True, text=True)


def random_json_model(path, input_dim, widths, seed):
    """A random MLP as a relutope JSON model (weights ~ N(0, 1/fan_in))."""
    rng = np.random.default_rng(seed)
    layers, fan_in = [], input_dim
    for i, width in enumerate(widths + [1]):
        layers.append({"weight": (rng.standard_normal((width, fan_in)) / np.sqrt(fan_in)).tolist(),
                       "bias": (0.1 * rng.standard_normal(width)).tolist(),
                       "activation": "relu" if i < len(widths) else "none"})
        fan_in = width
    with open(path, "w") as f:
        json.dump({"layers": layers}, f)
    return str(path)


@needs_cli
def test_count_has_every_field_of_the_cli_json_with_the_same_values():
    ours = relutope.count(MOONS, box="-1:1", threads=2).as_dict()
    theirs = json.loads(cli("count", MOONS, "--box", "-1:1", "--json", "--threads", "2").stdout)
    assert list(ours) == list(theirs)
    for key in theirs:
        if key not in ("seconds", "regions_per_second"):
            assert ours[key] == theirs[key], key


@needs_cli
def test_count_stopped_by_a_limit_is_a_marked_lower_bound(tmp_path):
    model = random_json_model(tmp_path / "big.json", 4, [64, 64, 64], seed=1)
    full = relutope.count(MOONS)
    assert full.complete is True and full.stopped is None
    for kwargs, reason in (({"max_regions": 100}, "region limit"), ({"time_limit": 0.2}, "time limit")):
        start = time.monotonic()
        part = relutope.count(model, threads=2, **kwargs)
        assert time.monotonic() - start < 5
        assert part.complete is False and part.stopped == reason, part
        theirs = json.loads(cli("count", model, "--json", "--threads", "2",
                                "--max-regions" if "max_regions" in kwargs else "--time-limit",
                                str(next(iter(kwargs.values())))).stdout)
        assert list(part.as_dict()) == list(theirs)
        assert theirs["complete"] is False
    assert relutope.count(model, max_regions=100).regions >= 100
    with pytest.raises(ValueError, match="time_limit"):
        relutope.count(MOONS, time_limit=-1)


@needs_cli
def test_a_checkpointed_count_resumes_from_python_and_from_the_cli(tmp_path):
    model = os.path.join(SOURCE, "tests", "data", "long_run_3x24x24x24.json")
    full = relutope.count(model, threads=2)
    saved = tmp_path / "run.ckpt"
    part = relutope.count(model, threads=1, max_regions=full.regions // 3, checkpoint=saved, checkpoint_every=0)
    assert part.complete is False and part.regions < full.regions and saved.exists()
    # Python resumes it, on another thread count: the tasks done before are not run again.
    again = relutope.count(model, threads=2, resume=saved)
    assert again.complete is True and again.regions == full.regions
    assert 0 < again.tasks_resumed < again.tasks
    # The CLI resumes the same file to the same count.
    theirs = json.loads(cli("count", model, "--resume", str(saved), "--json", "--threads", "2").stdout)
    assert theirs["regions"] == full.regions and theirs["tasks_resumed"] == again.tasks_resumed
    # A checkpoint of another run is refused, naming what differs.
    with pytest.raises(ValueError, match="tolerance: checkpoint 1e-09, this run 1e-08"):
        relutope.count(model, resume=saved, tolerance=1e-8)
    with pytest.raises(ValueError, match="checkpoint: cannot write"):
        relutope.count(model, checkpoint=tmp_path / "no" / "such" / "c.ckpt")


@needs_cli
def test_estimate_has_every_field_of_the_cli_json_with_the_same_values():
    ours = relutope.estimate(MOONS, probes=400, seed=3, time_budget=0, threads=2).as_dict()
    theirs = json.loads(cli("estimate", MOONS, "--probes", "400", "--seed", "3", "--time-budget", "0", "--json",
                            "--threads", "2").stdout)
    assert list(ours) == list(theirs)
    for key in theirs:
        if key not in ("seconds", "count_seconds"):
            assert ours[key] == theirs[key], key


def test_estimate_of_a_large_tree_brackets_its_count_and_a_small_tree_is_exact(tmp_path):
    small = relutope.estimate(MOONS, probes=10000, time_budget=0)
    assert small.strata == 0 and small.regions == relutope.count(MOONS).regions
    model = random_json_model(tmp_path / "mid.json", 3, [16, 16, 16], seed=4)
    truth = relutope.count(model).regions
    est = relutope.estimate(model, probes=2000, strata=200, time_budget=0)
    assert est.strata == 200 and est.probes == 2000
    assert abs(est.regions - truth) < 5 * est.std_error + 1e-9, (est, truth)
    with pytest.raises(ValueError, match="strata"):
        relutope.estimate(model, probes=10, strata=6)


@needs_cli
def test_exact_count_has_the_certificate_fields_of_the_cli():
    ours = relutope.count(MOONS, exact=True)
    theirs = json.loads(cli("count", MOONS, "--exact", "--json").stdout)
    assert list(ours.as_dict()) == list(theirs)
    assert ours.certified is True and ours.regions == theirs["regions"]


def test_box_forms_agree():
    a = relutope.count(MOONS, box="-1:1,-0.5:2").regions
    b = relutope.count(MOONS, box=([-1, -0.5], [1, 2])).regions
    c = relutope.count(MOONS, box=(-1, 1)).regions
    assert a == b and c == relutope.count(MOONS).regions
    assert a != c


def test_onnx_bytes_give_the_count_of_the_file():
    with open(MOONS, "rb") as f:
        assert relutope.count(f.read()).regions == relutope.count(MOONS).regions


@needs_cli
@pytest.mark.parametrize("name", ["truncated.onnx", "not_onnx.onnx"])
def test_bad_model_raises_value_error_with_the_cli_message(name):
    path = os.path.join(BAD, name)
    result = cli("count", path)
    assert result.returncode == 2
    message = result.stderr.strip().removeprefix("relutope: error: ")
    with pytest.raises(ValueError) as error:
        relutope.count(path)
    assert str(error.value) == message


def test_bad_arguments_raise_value_error_naming_them():
    # The message names the argument as Python spells it (the CLI says --box, --engine).
    with pytest.raises(ValueError, match='^box: "1:x": hi is not a number'):
        relutope.count(MOONS, box="1:x")
    with pytest.raises(ValueError, match="expected 2 lower and upper bounds"):
        relutope.count(MOONS, box=([0, 0, 0], [1, 1, 1]))
    with pytest.raises(ValueError, match="lo 1 > hi 0|empty"):
        relutope.count(MOONS, box=(1, 0))
    with pytest.raises(ValueError, match='^engine: expected auto, vertex, lp or exact, got "fast"'):
        relutope.count(MOONS, engine="fast")
    with pytest.raises(ValueError, match="<ONNX bytes>"):
        relutope.count(b"not an onnx model")
    with pytest.raises(ValueError, match="expected a path, ONNX bytes or a torch.nn.Module"):
        relutope.count(42)


def test_region_arrays_have_the_documented_shapes_and_dtypes():
    total = relutope.count(MOONS).regions
    seen = 0
    for chunk in relutope.regions(MOONS, chunk_size=100, volumes=True):
        n = len(chunk)
        assert 0 < n <= 100
        assert chunk.patterns.shape == (n, 48) and chunk.patterns.dtype == np.uint8
        assert chunk.interior_points.shape == (n, 2) and chunk.interior_points.dtype == np.float64
        assert chunk.volumes.shape == (n,) and chunk.depths.shape == (n,)
        assert chunk.map_weights.shape == (n, 1, 2) and chunk.map_biases.shape == (n, 1)
        h = len(chunk.halfspace_b)
        assert chunk.halfspace_offsets.shape == (n + 1,) and chunk.halfspace_offsets.dtype == np.int64
        assert chunk.halfspace_offsets[0] == 0 and chunk.halfspace_offsets[-1] == h
        assert chunk.halfspace_a.shape == (h, 2) and chunk.halfspace_layer.dtype == np.int32
        for r in range(n):  # the interior point is inside its half-spaces
            a, b = chunk.halfspaces(r)
            assert np.all(a @ chunk.interior_points[r] < b)
        seen += n
    assert seen == total


def test_volumes_tile_the_box():
    volume = sum(chunk.volumes.sum() for chunk in relutope.regions(MOONS, volumes=True))
    assert volume == pytest.approx(4.0, rel=1e-9)
    assert all(np.isnan(c.volumes).all() for c in relutope.regions(MOONS))


def test_breaking_out_of_regions_stops_the_enumeration(tmp_path):
    model = random_json_model(tmp_path / "big.json", 3, [48, 48, 48], seed=3)
    start = time.monotonic()
    for chunk in relutope.regions(model, chunk_size=10):
        break
    assert time.monotonic() - start < 5


def test_ctrl_c_raises_keyboard_interrupt_within_a_second(tmp_path):
    model = random_json_model(tmp_path / "big.json", 4, [64, 64, 64], seed=1)
    for call in (lambda: relutope.count(model), lambda: [len(c) for c in relutope.regions(model, chunk_size=1000)]):
        timer = threading.Timer(0.5, _thread.interrupt_main)
        start = time.monotonic()
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            call()
        assert time.monotonic() - start < 1.5
        timer.join()


def test_ctrl_c_raises_keyboard_interrupt_during_the_exact_recount(tmp_path):
    # Counting in floating point takes a fraction of a second; the exact recount of the same 3-D net
    # takes far longer (0.06 s and 4.6 s; the 2-D net of 48x3 used before recounts in 0.4 s since the
    # exact engine became faster, issue 11), so the interrupt lands in it.
    model = random_json_model(tmp_path / "deep.json", 3, [40, 40, 40], seed=1)
    start = time.monotonic()
    relutope.count(model)
    delay = max(0.5, 3 * (time.monotonic() - start))
    timer = threading.Timer(delay, _thread.interrupt_main)
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        relutope.count(model, exact=True)
    assert time.monotonic() - start < delay + 1
    timer.join()


DIGITS = os.path.join(SOURCE, "examples", "digits_64_10_10.onnx")
DIGITS_CSV = os.path.join(SOURCE, "examples", "digits_test.csv")
DIGITS_NPY = os.path.join(SOURCE, "examples", "digits_test.npy")


@needs_cli
def test_plane_through_points_gives_the_cli_count_and_report():
    ours = relutope.count(DIGITS, plane=(DIGITS_CSV, 0, 5, 17)).as_dict()
    theirs = json.loads(cli("count", DIGITS, "--points", DIGITS_CSV, "--plane", "0,5,17", "--json").stdout)
    assert list(ours) == list(theirs)
    for key in theirs:
        if key not in ("seconds", "regions_per_second"):
            assert ours[key] == theirs[key], key
    assert ours["domain"]["source"] == "plane" and len(ours["domain"]["halfspaces"]) == 3
    # The same points as an array: the same plane, described as rows of "points".
    array = relutope.count(DIGITS, plane=(np.load(DIGITS_NPY), 0, 5, 17))
    assert array.regions == ours["regions"] and array.domain["lo"] == ours["domain"]["lo"]
    assert array.domain["slice"]["description"] == "the plane through rows 0,5,17 of points"


@needs_cli
def test_line_between_points_gives_the_cli_breakpoints():
    ours = relutope.count(DIGITS, line=(DIGITS_NPY, 0, 5))
    theirs = json.loads(cli("count", DIGITS, "--points", DIGITS_NPY, "--line", "0,5", "--json").stdout)
    assert ours.regions == theirs["regions"] and ours.breakpoints == theirs["breakpoints"]
    assert len(ours.breakpoints) == ours.regions - 1 and ours.domain["source"] == "line"


def test_regions_on_a_plane_are_in_plane_coordinates():
    points = np.load(DIGITS_NPY)
    chunks = list(relutope.regions(DIGITS, plane=(points, 0, 5, 17), volumes=True))
    n = sum(len(c) for c in chunks)
    assert n == relutope.count(DIGITS, plane=(points, 0, 5, 17)).regions
    assert all(c.interior_points.shape == (len(c), 2) and c.map_weights.shape == (len(c), 10, 2) for c in chunks)
    report = relutope.neurons(DIGITS, line=(points, 0, 5))
    assert report["regions"] == relutope.count(DIGITS, line=(points, 0, 5)).regions


def test_draw_on_a_plane_marks_the_three_points(tmp_path):
    path = tmp_path / "plane.svg"
    plane = (np.load(DIGITS_NPY), 0, 5, 17)
    assert relutope.draw(DIGITS, path, plane=plane, color="class") == relutope.count(DIGITS, plane=plane).regions
    text = path.read_text()
    assert all(">row {}<".format(i) in text for i in (0, 5, 17))


def test_bad_plane_and_line_raise_value_error_naming_them():
    points = np.load(DIGITS_NPY)
    with pytest.raises(ValueError, match=r"^plane: row 99 is not a row of points \(0 to 19\)"):
        relutope.count(DIGITS, plane=(points, 0, 1, 99))
    with pytest.raises(ValueError, match=r"^line: rows 3,3 of points: the two points are the same"):
        relutope.count(DIGITS, line=(points, 3, 3))
    with pytest.raises(ValueError, match=r"^plane: .* has 64 coordinates per row but .*two_moons.onnx has 2 inputs"):
        relutope.count(MOONS, plane=(DIGITS_CSV, 0, 1, 2))
    with pytest.raises(ValueError, match=r"^plane: expected \(points, i, j, k\)"):
        relutope.count(DIGITS, plane=(points, 0, 1))
    with pytest.raises(ValueError, match="give only one of box, domain, plane and line"):
        relutope.count(DIGITS, box="-1:1", line=(points, 0, 1))


def test_bounds_of_an_architecture_and_of_a_model():
    rows = {row["id"]: row for row in relutope.bounds("2,16,16,16")}
    assert rows["serra2018_upper"]["applies"] and int(rows["serra2018_upper"]["value"]) > 0
    assert relutope.bounds(MOONS)
    with pytest.raises(ValueError):
        relutope.bounds("2,x")


@needs_cli
def test_bounds_of_a_model_are_the_cli_bounds_on_its_domain():
    for args, kwargs in (([], {}), (["--box", "0:1"], {"box": "0:1"})):
        theirs = json.loads(cli("bounds", MOONS, "--json", *args).stdout)["bounds"]
        ours = relutope.bounds(MOONS, **kwargs)
        assert [(b["id"], b["applies"], b.get("value")) for b in theirs] == \
            [(b["id"], b["applies"], b["value"] if b["applies"] else None) for b in ours]


def test_neurons_report_has_one_entry_per_neuron():
    report = relutope.neurons(MOONS)
    assert report["layer"].shape == (48,) and len(report["state"]) == 48
    assert report["regions"] == relutope.count(MOONS).regions
    assert set(report["state"]) <= {"dead", "stably active", "switching", "unknown"}


def test_neurons_report_gives_a_clip_as_one_unit_of_three_states():
    report = relutope.neurons(os.path.join(SOURCE, "tests", "data", "graph", "hardtanh_mlp.onnx"))
    clips = [i for i, kind in enumerate(report["kind"]) if kind == "clip"]
    assert len(clips) == 6  # Hardtanh(6) after Linear(2, 6); the CLI's --json gives the same
    assert report["regions_in_state"][clips[3]].tolist() == [4, 14, 1]
    assert abs(report["volume_fraction_in_state"][clips[3]].sum() - 1) < 1e-9


def test_draw_writes_a_png(tmp_path):
    path = tmp_path / "moons.png"
    assert relutope.draw(MOONS, path, color="class") == relutope.count(MOONS).regions
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


torch = pytest.importorskip("torch")


def trained_module(seed=0):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(2, 12), torch.nn.ReLU(), torch.nn.Linear(12, 12), torch.nn.ReLU(),
                              torch.nn.Linear(12, 1))
    x = torch.rand(256, 2) * 2 - 1
    y = (x[:, :1] * x[:, 1:] > 0).float()
    optimiser = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(100):
        optimiser.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(net(x), y).backward()
        optimiser.step()
    return net


@needs_cli
def test_a_trained_module_gives_the_cli_count(tmp_path):
    net = trained_module()
    path = tmp_path / "net.onnx"
    torch.onnx.export(net, torch.zeros(1, 2), str(path))
    expected = json.loads(cli("count", str(path), "--json").stdout)["regions"]
    assert relutope.count(net).regions == expected
    assert relutope.count(net, example_input=torch.zeros(1, 2)).regions == expected
    assert net.training  # the export left the module as it was


def test_patterns_at_interior_points_are_torch_activations():
    net = trained_module(seed=1)
    in_double = copy.deepcopy(net).double()  # interior points are float64; so is the check
    for chunk in relutope.regions(net, chunk_size=50):
        net = in_double
        with torch.no_grad():
            x = torch.from_numpy(chunk.interior_points)
            h1 = net[0](x)
            h2 = net[2](torch.relu(h1))
            y = net(x).double().numpy()
        torch_pattern = (torch.cat([h1, h2], dim=1) >= 0).numpy().astype(np.uint8)
        assert np.array_equal(chunk.patterns, torch_pattern)
        affine = np.einsum("nmd,nd->nm", chunk.map_weights, chunk.interior_points) + chunk.map_biases
        assert np.allclose(affine, y, atol=1e-5)
