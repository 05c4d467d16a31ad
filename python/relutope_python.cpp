// relutope._relutope: the pybind11 layer under the Python package (python/relutope/__init__.py).
// It only converts: Python arguments to the public C++ API's types, its results to dicts and NumPy
// arrays, its exceptions to Python's. Long calls run on a thread of their own with the GIL released,
// while the calling thread wakes every 100 ms to let Python handle signals: Ctrl-C sets
// EnumerateOptions::cancel, the workers stop, and KeyboardInterrupt is raised.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "option_values.h"
#include "relutope/relutope.h"

namespace py = pybind11;
using namespace relutope;

namespace {

constexpr auto kSignalPoll = std::chrono::milliseconds(100);

// Runs `work(cancel)` on another thread without the GIL; polls for signals meanwhile. On a signal
// (PyErr_CheckSignals sets KeyboardInterrupt for Ctrl-C) it cancels the work, waits for it and raises.
template <class Work>
void run_interruptible(const Work& work) {
  std::atomic<bool> cancel{false};
  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;
  std::exception_ptr error;
  std::thread thread([&] {
    try {
      work(cancel);
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mutex);
    done = true;
    finished.notify_all();
  });
  for (;;) {
    bool is_done;
    {
      py::gil_scoped_release release;
      std::unique_lock<std::mutex> lock(mutex);
      is_done = finished.wait_for(lock, kSignalPoll, [&] { return done; });
    }
    if (is_done) break;
    if (PyErr_CheckSignals() != 0) {
      cancel = true;
      {
        py::gil_scoped_release release;
        thread.join();
      }
      throw py::error_already_set();
    }
  }
  thread.join();
  if (error) std::rethrow_exception(error);
}

EnumerateOptions enumerate_options(int threads, const std::string& engine, double tolerance) {
  EnumerateOptions options;
  options.num_threads = threads;
  options.engine = cli::with_option_name("engine", [&] { return cli::parse_engine(engine); });
  options.tolerance = tolerance;
  return options;
}

// The regions of one chunk, flattened into arrays (the half-spaces of region r are rows
// halfspace_offsets[r] .. halfspace_offsets[r+1]-1).
struct Chunk {
  std::size_t num_regions = 0;
  std::vector<std::uint8_t> patterns;
  std::vector<double> interior_points, volumes, depths, map_weights, map_biases;
  std::vector<std::int64_t> halfspace_offsets{0};
  std::vector<double> halfspace_a, halfspace_b;
  std::vector<std::int32_t> halfspace_layer, halfspace_neuron;

  void add(const Region& r) {
    ++num_regions;
    patterns.insert(patterns.end(), r.pattern.begin(), r.pattern.end());
    interior_points.insert(interior_points.end(), r.interior_point.data(), r.interior_point.data() + r.interior_point.size());
    volumes.push_back(r.volume.value_or(std::numeric_limits<double>::quiet_NaN()));
    depths.push_back(r.depth);
    // Row-major (output, input) per region, as NumPy's default.
    for (Eigen::Index i = 0; i < r.map_weight.rows(); ++i)
      for (Eigen::Index j = 0; j < r.map_weight.cols(); ++j) map_weights.push_back(r.map_weight(i, j));
    map_biases.insert(map_biases.end(), r.map_bias.data(), r.map_bias.data() + r.map_bias.size());
    for (const Halfspace& h : r.halfspaces) {
      halfspace_a.insert(halfspace_a.end(), h.a.data(), h.a.data() + h.a.size());
      halfspace_b.push_back(h.b);
      const bool neuron = h.origin.kind != HalfspaceOrigin::Kind::kDomain;  // a neuron, or a Max unit's piece
      halfspace_layer.push_back(neuron ? h.origin.layer : -1);
      halfspace_neuron.push_back(h.origin.neuron);
    }
    halfspace_offsets.push_back(static_cast<std::int64_t>(halfspace_b.size()));
  }
};

template <class T>
py::array_t<T> to_array(const std::vector<T>& values, std::vector<py::ssize_t> shape) {
  py::array_t<T> out(shape);
  if (!values.empty()) std::memcpy(out.mutable_data(), values.data(), values.size() * sizeof(T));
  return out;
}

// A running enumeration whose regions Python takes chunk by chunk. The producer thread blocks when
// two chunks wait, so memory stays bounded however many regions there are.
class RegionStream {
 public:
  RegionStream(Network net, Domain domain, EnumerateOptions options, std::size_t chunk_size)
      : net_(std::move(net)), domain_(std::move(domain)), options_(std::move(options)), chunk_size_(chunk_size) {
    if (chunk_size_ == 0) throw InputError("chunk_size: expected a positive number, got 0");
    input_dim_ = net_.input_dim();
    output_dim_ = net_.output_dim();
    num_neurons_ = net_.num_neurons();
    options_.cancel = &cancel_;
    thread_ = std::thread([this] { produce(); });
  }
  ~RegionStream() { stop(); }

  // The next chunk as a dict of arrays, or None at the end.
  py::object next_chunk() {
    std::optional<Chunk> chunk;
    for (;;) {
      bool ready;
      {
        py::gil_scoped_release release;
        std::unique_lock<std::mutex> lock(mutex_);
        ready = changed_.wait_for(lock, kSignalPoll, [&] { return !queue_.empty() || done_; });
        if (ready && !queue_.empty()) {
          chunk = std::move(queue_.front());
          queue_.pop_front();
          changed_.notify_all();
        }
      }
      if (chunk) break;
      if (ready) {  // done, nothing left
        if (error_) {
          std::exception_ptr error = error_;
          error_ = nullptr;
          std::rethrow_exception(error);
        }
        return py::none();
      }
      if (PyErr_CheckSignals() != 0) {
        {
          py::gil_scoped_release release;
          stop();
        }
        throw py::error_already_set();
      }
    }
    const py::ssize_t n = static_cast<py::ssize_t>(chunk->num_regions), d = input_dim_, m = output_dim_, k = num_neurons_;
    const auto h = static_cast<py::ssize_t>(chunk->halfspace_b.size());
    py::dict out;
    out["patterns"] = to_array(chunk->patterns, {n, k});
    out["interior_points"] = to_array(chunk->interior_points, {n, d});
    out["volumes"] = to_array(chunk->volumes, {n});
    out["depths"] = to_array(chunk->depths, {n});
    out["map_weights"] = to_array(chunk->map_weights, {n, m, d});
    out["map_biases"] = to_array(chunk->map_biases, {n, m});
    out["halfspace_offsets"] = to_array(chunk->halfspace_offsets, {n + 1});
    out["halfspace_a"] = to_array(chunk->halfspace_a, {h, d});
    out["halfspace_b"] = to_array(chunk->halfspace_b, {h});
    out["halfspace_layer"] = to_array(chunk->halfspace_layer, {h});
    out["halfspace_neuron"] = to_array(chunk->halfspace_neuron, {h});
    return out;
  }

  // Statistics of the finished run (valid after the last chunk).
  EnumerateStats stats() const { return stats_; }

  // Cancels the run (if still going) and waits for the producer. Called without the GIL.
  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);  // so that push() cannot miss the wake-up
      cancel_ = true;
    }
    changed_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void produce() {
    try {
      Chunk current;
      stats_ = enumerate_regions(net_, domain_, options_, [&](const Region& region) {
        current.add(region);
        if (current.num_regions == chunk_size_) push(std::move(current)), current = Chunk();
      });
      if (current.num_regions > 0) push(std::move(current));
    } catch (const Cancelled&) {
      // stopped by stop(): nobody waits for the rest
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
    changed_.notify_all();
  }

  void push(Chunk&& chunk) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return queue_.size() < 2 || cancel_; });
    if (cancel_) return;  // nobody reads it; the workers stop at their next region
    queue_.push_back(std::move(chunk));
    changed_.notify_all();
  }

  Network net_;
  Domain domain_;
  EnumerateOptions options_;
  std::size_t chunk_size_;
  int input_dim_ = 0, output_dim_ = 0, num_neurons_ = 0;
  std::atomic<bool> cancel_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Chunk> queue_;
  bool done_ = false;
  std::exception_ptr error_;
  EnumerateStats stats_;
  std::thread thread_;
};

py::dict stats_dict(const EnumerateStats& stats) {
  py::dict out;
  out["regions"] = stats.num_regions;
  out["engine"] = engine_name(stats.engine);
  out["threads"] = stats.num_threads;
  out["tasks"] = stats.num_tasks;
  out["seconds"] = stats.seconds;
  out["regions_per_second"] = stats.seconds > 0 ? stats.num_regions / stats.seconds : 0.0;
  out["tolerance_abs"] = stats.tolerance_abs;
  out["near_degenerate"] = stats.num_near_degenerate;
  out["exact_decisions"] = stats.num_exact_decisions;
  out["lps"] = stats.num_lps;
  out["lp_fallbacks"] = stats.num_lp_fallbacks;
  return out;
}

py::list bounds_list(const std::vector<Bound>& bounds) {
  py::list out;
  for (const Bound& b : bounds) {
    py::dict row;
    row["id"] = b.id;
    row["name"] = b.name;
    row["kind"] = bound_kind_name(b.kind);
    row["applies"] = b.applies;
    row["reason"] = b.reason;
    row["value"] = b.value;
    row["log10"] = b.log10;
    row["verified"] = b.verified;
    out.append(row);
  }
  return out;
}

Domain box_of(const Network& net, const py::object& box) {
  if (py::isinstance<py::str>(box))
    return cli::with_option_name("box", [&] { return cli::parse_box(box.cast<std::string>(), net.input_dim()); });
  // (lo, hi): numbers (the same interval in every dimension) or vectors of input_dim entries.
  const auto pair = box.cast<std::pair<py::object, py::object>>();
  const int d = net.input_dim();
  auto side = [&](const py::object& v) -> Eigen::VectorXd {
    if (py::isinstance<py::float_>(v) || py::isinstance<py::int_>(v)) return Eigen::VectorXd::Constant(d, v.cast<double>());
    return v.cast<Eigen::VectorXd>();
  };
  Domain out = Domain::box(side(pair.first), side(pair.second));
  if (out.lo.size() != d || out.hi.size() != d)
    throw InputError("box: expected " + std::to_string(d) + " lower and upper bounds (" + net.source + " has " +
                     std::to_string(d) + " inputs), got " + std::to_string(out.lo.size()) + " and " +
                     std::to_string(out.hi.size()));
  return cli::with_option_name("box", [&] { return on_domain(net, std::move(out), DomainOrigin::kBox).domain; });
}

// The points of plane=(points, i, j, k) or line=(points, i, j): a file (CSV, .npy) or an n x d array.
std::pair<Eigen::MatrixXd, std::string> points_of(const py::object& points) {
  if (py::isinstance<py::str>(points)) {
    const std::string path = points.cast<std::string>();
    return {load_points(path), path};
  }
  return {points.cast<Eigen::MatrixXd>(), "points"};
}

template <std::size_t N>
std::array<Eigen::Index, N> rows_of(const py::tuple& spec) {
  std::array<Eigen::Index, N> rows{};
  for (std::size_t i = 0; i < N; ++i) rows[i] = spec[i + 1].cast<Eigen::Index>();
  return rows;
}

// The network and domain that the keyword arguments choose (the dict `where` that relutope/__init__.py
// builds): box, domain (a polytope file), plane, line (with plane_region, plane_scale), else the
// model's own domain, else [-1,1]^d. The same choice as the CLI's --box, --domain, --plane, --line.
CountingDomain choose(const Network& net, const py::dict& where) {
  auto given = [&](const char* key) { return where.contains(key) && !where[key].is_none(); };
  const int num_given = given("box") + given("domain") + given("plane") + given("line");
  if (num_given > 1) throw InputError("give only one of box, domain, plane and line");
  if (given("plane")) {
    const auto spec = where["plane"].cast<py::tuple>();
    if (spec.size() != 4) throw InputError("plane: expected (points, i, j, k), got " + std::to_string(spec.size()) + " items");
    const std::string region = given("plane_region") ? where["plane_region"].cast<std::string>() : "triangle";
    if (region != "triangle" && region != "box")
      throw InputError("plane_region: expected \"triangle\" or \"box\", got \"" + region + "\"");
    const double scale = given("plane_scale") ? where["plane_scale"].cast<double>() : 1.5;
    const auto [points, name] = points_of(spec[0]);
    return cli::with_option_name("plane", [&, &points = points, &name = name] {
      return on_plane(net, points, rows_of<3>(spec), region == "box" ? PlaneRegion::kSquare : PlaneRegion::kTriangle,
                      scale, name);
    });
  }
  if (given("line")) {
    const auto spec = where["line"].cast<py::tuple>();
    if (spec.size() != 3) throw InputError("line: expected (points, i, j), got " + std::to_string(spec.size()) + " items");
    const auto [points, name] = points_of(spec[0]);
    return cli::with_option_name("line", [&, &points = points, &name = name] { return on_line(net, points, rows_of<2>(spec), name); });
  }
  if (given("box")) return on_domain(net, box_of(net, where["box"]), DomainOrigin::kBox);
  if (given("domain")) {
    const std::string path = where["domain"].cast<std::string>();
    Domain polytope = load_polytope_domain(path);
    return cli::with_option_name(path, [&] { return on_domain(net, std::move(polytope), DomainOrigin::kPolytope); });
  }
  return default_domain(net);
}

}  // namespace

PYBIND11_MODULE(_relutope, m) {
  m.doc() = "relutope: exact linear regions of ReLU networks (C++ core; use the relutope package)";
  m.attr("__version__") = RELUTOPE_VERSION;

  static py::exception<UncertifiedError> uncertified(m, "UncertifiedError", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InputError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const UncertifiedError& e) {
      uncertified(e.what());
    }
  });

  py::class_<Network>(m, "Network")
      .def_property_readonly("input_dim", &Network::input_dim)
      .def_property_readonly("output_dim", &Network::output_dim)
      .def_property_readonly("num_neurons", &Network::num_neurons)
      .def_property_readonly("hidden_widths", &Network::hidden_widths)
      .def_readonly("source", &Network::source);

  m.def("load_network", &load_network, py::arg("path"), "Loads an ONNX or JSON model (relutope::load_network).");

  m.def(
      "count",
      [](const Network& net, const std::string& model, const py::dict& where, int threads, const std::string& engine,
         double tolerance, bool exact, double time_limit, std::uint64_t max_regions, const std::string& checkpoint,
         double checkpoint_every, const std::string& resume) {
        const CountingDomain chosen = choose(net, where);
        EnumerateOptions base = enumerate_options(threads, engine, tolerance);
        if (!(time_limit >= 0) || !std::isfinite(time_limit))
          throw InputError("time_limit: expected a number of seconds >= 0 (0 = none), got " + std::to_string(time_limit));
        base.time_limit = time_limit;
        base.max_regions = max_regions;
        CheckpointFiles files;
        files.checkpoint = checkpoint;
        files.every_seconds = checkpoint_every;
        files.resume = resume;
        CountReport report;
        run_interruptible([&](const std::atomic<bool>& cancel) {
          EnumerateOptions options = base;
          options.cancel = &cancel;
          const CheckpointedRun checkpoints(options, files, count_identity(chosen, options));
          report = count_report(model, chosen, options, exact);
        });
        return count_report_json(report, chosen);
      },
      py::arg("net"), py::arg("model"), py::arg("where"), py::arg("threads") = 0, py::arg("engine") = "auto",
      py::arg("tolerance") = 1e-9, py::arg("exact") = false, py::arg("time_limit") = 0.0, py::arg("max_regions") = 0,
      py::arg("checkpoint") = "", py::arg("checkpoint_every") = 30.0, py::arg("resume") = "",
      "count --json of the network in the chosen domain, as a JSON string (relutope::count_report_json).");

  m.def(
      "estimate",
      [](const Network& net, const std::string& model, const py::dict& where, int probes, int strata, double time_budget,
         std::uint64_t seed, int threads, const std::string& engine, double tolerance) {
        const CountingDomain chosen = choose(net, where);
        EstimateOptions options;
        options.run = enumerate_options(threads, engine, tolerance);
        options.num_probes = probes;
        options.strata = strata;
        options.time_budget = time_budget;
        options.seed = seed;
        EstimateReport report;
        run_interruptible([&](const std::atomic<bool>& cancel) {
          EstimateOptions run = options;
          run.run.cancel = &cancel;
          report = estimate_report(model, chosen, run);
        });
        return estimate_report_json(report, chosen);
      },
      py::arg("net"), py::arg("model"), py::arg("where"), py::arg("probes") = 10000, py::arg("strata") = 0,
      py::arg("time_budget") = 10.0, py::arg("seed") = 0, py::arg("threads") = 0, py::arg("engine") = "auto",
      py::arg("tolerance") = 1e-9,
      "estimate --json of the network in the chosen domain, as a JSON string (relutope::estimate_report_json).");

  py::class_<RegionStream>(m, "RegionStream")
      .def(py::init([](const Network& net, const py::dict& where, int threads, const std::string& engine, double tolerance,
                       bool volumes, std::size_t chunk_size) {
             EnumerateOptions options = enumerate_options(threads, engine, tolerance);
             options.with_geometry = true;
             options.with_volume = volumes;
             CountingDomain chosen = choose(net, where);
             return std::make_unique<RegionStream>(std::move(chosen.net), std::move(chosen.domain), options, chunk_size);
           }),
           py::arg("net"), py::arg("where"), py::arg("threads") = 0,
           py::arg("engine") = "auto", py::arg("tolerance") = 1e-9, py::arg("volumes") = false,
           py::arg("chunk_size") = 65536)
      .def("next_chunk", &RegionStream::next_chunk)
      .def("stats", [](const RegionStream& s) { return stats_dict(s.stats()); })
      .def("close", [](RegionStream& s) {
        py::gil_scoped_release release;
        s.stop();
      });

  m.def(
      "bounds_of_architecture",
      [](const std::string& arch) { return bounds_list(region_bounds(cli::with_option_name("arch", [&] { return cli::parse_architecture(arch); }))); }, py::arg("arch"));
  m.def(
      "bounds_of_network",
      [](const Network& net, const py::dict& where) {
        const CountingDomain chosen = choose(net, where);
        return bounds_list(model_bounds(chosen.net, chosen.domain));
      },
      py::arg("net"), py::arg("where"), "relutope bounds MODEL: ranks of the weights and the neurons stable on the domain.");

  m.def(
      "neurons",
      [](const Network& net, const py::dict& where, int threads, const std::string& engine, double tolerance) {
        const CountingDomain chosen = choose(net, where);
        NeuronReport report;
        run_interruptible([&](const std::atomic<bool>& cancel) {
          EnumerateOptions options = enumerate_options(threads, engine, tolerance);
          options.cancel = &cancel;
          report = analyze_neurons(chosen.net, chosen.domain, options);
        });
        const auto n = static_cast<py::ssize_t>(report.neurons.size());
        std::vector<std::int32_t> layer, neuron;
        std::vector<std::uint64_t> regions_active;
        std::vector<double> fraction;
        py::list state, kind, regions_in_state, volume_in_state;
        for (const NeuronStats& s : report.neurons) {
          layer.push_back(s.layer);
          neuron.push_back(s.neuron);
          regions_active.push_back(s.regions_active);
          fraction.push_back(s.volume_fraction_active);
          state.append(neuron_state_name(s.state));
          kind.append(s.is_max_unit ? "max" : s.is_clip_unit ? "clip" : "neuron");
          const auto k = static_cast<py::ssize_t>(s.regions_in_state.size());
          regions_in_state.append(to_array(s.regions_in_state, {k}));
          volume_in_state.append(to_array(s.volume_fraction_in_state, {k}));
        }
        py::dict out;
        out["layer"] = to_array(layer, {n});
        out["neuron"] = to_array(neuron, {n});
        out["state"] = state;
        out["regions_active"] = to_array(regions_active, {n});
        out["volume_fraction_active"] = to_array(fraction, {n});
        out["kind"] = kind;
        out["regions_in_state"] = regions_in_state;
        out["volume_fraction_in_state"] = volume_in_state;
        out["regions"] = report.num_regions;
        out["exact_volumes"] = report.exact_volumes;
        out["num_samples"] = report.num_samples;
        return out;
      },
      py::arg("net"), py::arg("where"), py::arg("threads") = 0, py::arg("engine") = "auto", py::arg("tolerance") = 1e-9);

  m.def(
      "draw",
      [](const Network& model, const std::string& path, const py::dict& where, const std::string& color, int width,
         int threads, double tolerance, const std::string& title) {
        const CountingDomain chosen = choose(model, where);
        const Network& net = chosen.net;
        const Domain& domain = chosen.domain;
        DrawOptions draw;
        draw.color_by = cli::with_option_name("color", [&] { return cli::parse_color_by(color); });
        if (domain.dim() == 2)  // the data points a plane passes through, as the CLI's export marks them
          for (const auto& [u, label] : chosen.anchors) draw.marks.emplace_back(u, label);
        draw.width = width;
        draw.title = title;
        check_drawable(net, domain, draw);
        std::vector<Region> regions;
        run_interruptible([&](const std::atomic<bool>& cancel) {
          EnumerateOptions options = enumerate_options(threads, "vertex", tolerance);
          options.with_vertices = true;
          options.cancel = &cancel;
          regions = enumerate_regions(net, domain, options);
        });
        const bool svg = path.size() >= 4 && path.compare(path.size() - 4, 4, ".svg") == 0;
        if (svg) write_svg(path, net, domain, regions, draw);
        else write_png(path, net, domain, regions, draw);
        return regions.size();
      },
      py::arg("net"), py::arg("path"), py::arg("where"), py::arg("color") = "region", py::arg("width") = 800,
      py::arg("threads") = 0, py::arg("tolerance") = 1e-9, py::arg("title") = "");
}
