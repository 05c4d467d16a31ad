#include "relutope/enumerate.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <memory>
#include <sstream>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "detail/flat_network.h"
#include "detail/leaf_sink.h"
#include "detail/normalized_problem.h"
#include "engines/exact_engine.h"
#include "engines/lp_engine.h"
#include "engines/vertex_engine.h"
#include "relutope/error.h"

namespace relutope {

const char* engine_name(Engine engine) {
  switch (engine) {
    case Engine::kAuto: return "auto";
    case Engine::kVertex: return "vertex";
    case Engine::kLp: return "lp";
    case Engine::kExact: return "exact";
  }
  return "?";
}

Engine resolve_engine(Engine requested, int input_dim, bool wants_geometry) {
  if (requested != Engine::kAuto) return requested;
  return input_dim <= (wants_geometry ? kMaxVertexGeometryDim : kMaxVertexEngineDim) ? Engine::kVertex : Engine::kLp;
}

namespace {

using Clock = std::chrono::steady_clock;

// Everything the threads share while they run: counters, progress and the ordered hand-over of
// regions to the visitor.
struct Shared {
  const detail::FlatNetwork& flat;  // the network and domain as given: regions are reported in them
  const Domain& domain;
  // Where the engine's coordinates u sit in the input: x = centre + scale ⊙ u (identity for the
  // exact engine, which needs no normalisation).
  const Eigen::VectorXd& centre;
  const Eigen::VectorXd& scale;
  const EnumerateOptions& options;
  const RegionVisitor* visit;     // null when only counting
  const RegionFormatter* format;  // with `consume`: regions become text in the workers
  const TextConsumer* consume;

  bool keeps_regions() const { return visit || format; }
  bool cancelled() const { return options.cancel && options.cancel->load(std::memory_order_relaxed); }
  double near_degenerate_depth;
  std::atomic<std::uint64_t> found{0};
  Clock::time_point last_progress = Clock::now();

  void report_progress(std::uint64_t batch) {
    const std::uint64_t total = found += batch;
    if (!options.progress) return;
#pragma omp critical(relutope_progress)
    {
      const auto now = Clock::now();
      if (now - last_progress > std::chrono::milliseconds(250)) {
        last_progress = now;
        options.progress(total);
      }
    }
  }
};

Halfspace domain_halfspace(const Domain& domain, int k) {
  const int d = domain.dim();
  Halfspace h;
  if (k < 2 * d) {
    const int i = k / 2;
    const bool upper = k % 2;
    h.a = Eigen::VectorXd::Zero(d);
    h.a[i] = upper ? 1.0 : -1.0;
    h.b = upper ? domain.hi[i] : -domain.lo[i];
  } else {
    h = domain.extra[k - 2 * d];
  }
  h.origin = HalfspaceOrigin{};
  h.origin.neuron = k;
  return h;
}

// What one task hands over: its regions, or the texts the formatter made of them.
struct TaskOutput {
  std::vector<Region> regions;
  std::vector<std::string> texts;
};

// Receives the leaves of one task; counts them and, when a visitor waits, builds the regions.
class TaskSink : public detail::LeafSink {
 public:
  TaskSink(Shared& shared, TaskOutput* out) : shared_(shared), out_(out) {}
  ~TaskSink() override { shared_.found += pending_; }

  bool wants_constraints() const override {
    return out_ && (shared_.options.with_geometry || shared_.options.with_vertices);
  }
  bool wants_vertices() const override { return out_ && shared_.options.with_vertices; }
  bool wants_volume() const override { return out_ && shared_.options.with_volume; }

  void leaf(const detail::Leaf& leaf) override {
    if (shared_.cancelled()) throw Cancelled("enumeration cancelled");
    ++num_regions;
    if (leaf.depth < shared_.near_degenerate_depth) ++num_near_degenerate;
    if (++pending_ == 1024) {
      shared_.report_progress(pending_);
      pending_ = 0;
    }
    if (!out_) return;
    const detail::FlatNetwork& flat = shared_.flat;
    Region region;
    region.pattern.assign(leaf.pattern, leaf.pattern + flat.num_neurons);
    const int d = flat.input_dim;
    const bool as_is = leaf.in_input_coordinates;
    const Eigen::VectorXd scale = as_is ? Eigen::VectorXd::Ones(d) : shared_.scale;
    const Eigen::VectorXd origin = as_is ? Eigen::VectorXd::Zero(d) : shared_.centre;
    auto to_input = [&](const double* u) -> Eigen::VectorXd {
      return origin + scale.cwiseProduct(Eigen::Map<const Eigen::VectorXd>(u, d));
    };
    region.interior_point = to_input(leaf.interior_point);
    // A ball of radius r in u holds a ball of radius r * min(scale) in the input.
    region.depth = std::isfinite(leaf.depth) ? scale.minCoeff() * leaf.depth : shared_.domain.diameter();
    if (leaf.volume >= 0) region.volume = leaf.volume * scale.prod();
    for (std::size_t v = 0; v * d < leaf.vertices.size(); ++v) region.vertices.push_back(to_input(leaf.vertices.data() + v * d));
    region.facet_vertices = leaf.constraint_vertices;
    if (wants_constraints()) {
      detail::RegionMaps maps = detail::region_maps(flat, region.pattern);
      for (detail::ConstraintCode code : leaf.constraints)
        region.halfspaces.push_back(code < 0 ? domain_halfspace(shared_.domain, -1 - code)
                                             : detail::neuron_halfspace(flat, maps, code));
      region.map_weight = std::move(maps.out_weight);
      region.map_bias = std::move(maps.out_bias);
    }
    if (shared_.format) out_->texts.push_back((*shared_.format)(region));
    else out_->regions.push_back(std::move(region));
  }

  std::uint64_t num_regions = 0;
  std::uint64_t num_near_degenerate = 0;

 private:
  Shared& shared_;
  TaskOutput* out_;
  std::uint64_t pending_ = 0;
};

int resolve_threads(int requested) {
#ifdef _OPENMP
  return requested > 0 ? requested : omp_get_max_threads();
#else
  (void)requested;
  return 1;
#endif
}

// Cuts the search into tasks (disjoint subtrees, in pattern order), runs them on all threads and
// hands their regions to the visitor in task order, so the output is the same for any thread count.
template <class EngineT>
void run_engine(const EngineT& engine, Shared& shared, int threads, EnumerateStats& stats) {
  std::vector<typename EngineT::Task> tasks;
  {
    typename EngineT::Worker planner(engine);
    tasks = planner.make_tasks(engine.root_task(), threads == 1 ? 1 : 64 * threads, shared.flat.num_neurons);
    stats.num_lps += planner.counters.lps;
    stats.num_lp_fallbacks += planner.counters.lps_fallback;
    stats.num_exact_decisions += planner.counters.exact_decisions;

  }
  const auto num_tasks = static_cast<std::int64_t>(tasks.size());
  stats.num_tasks = tasks.size();
  std::vector<TaskOutput> buffers(shared.keeps_regions() ? tasks.size() : 0);
  std::vector<char> done(tasks.size(), 0);
  std::int64_t next_to_visit = 0;
  std::exception_ptr first_error;
  std::uint64_t regions = 0, near_degenerate = 0, exact_decisions = 0, lps = 0, fallbacks = 0;

#pragma omp parallel num_threads(threads) reduction(+ : regions, near_degenerate, exact_decisions, lps, fallbacks)
  {
    std::unique_ptr<typename EngineT::Worker> worker;
    try {
      worker = std::make_unique<typename EngineT::Worker>(engine);
    } catch (...) {
#pragma omp critical(relutope_first_error)
      if (!first_error) first_error = std::current_exception();
    }
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t i = 0; i < num_tasks; ++i) {
      if (!worker) continue;
      if (shared.cancelled()) {
#pragma omp critical(relutope_first_error)
        if (!first_error) first_error = std::make_exception_ptr(Cancelled("enumeration cancelled"));
        continue;
      }
      try {
        TaskSink sink(shared, shared.keeps_regions() ? &buffers[i] : nullptr);
        worker->run(tasks[i], sink);
        regions += sink.num_regions;
        near_degenerate += sink.num_near_degenerate;
        if (shared.keeps_regions()) {
#pragma omp critical(relutope_visit)
          {
            done[i] = 1;
            while (next_to_visit < num_tasks && done[next_to_visit]) {
              // The visitor may throw (a caller stopping early): catch it here, as an exception
              // leaving the critical section would end the program (std::terminate).
              if (!first_error) try {
                  for (const Region& region : buffers[next_to_visit].regions) (*shared.visit)(region);
                  for (const std::string& text : buffers[next_to_visit].texts) (*shared.consume)(text);
                } catch (...) {
#pragma omp critical(relutope_first_error)
                  if (!first_error) first_error = std::current_exception();
                }
              buffers[next_to_visit] = TaskOutput();  // free it now
              ++next_to_visit;
            }
          }
        }
      } catch (...) {
#pragma omp critical(relutope_first_error)
        if (!first_error) first_error = std::current_exception();
      }
    }
    if (worker) {
      exact_decisions += worker->counters.exact_decisions;
      lps += worker->counters.lps;
      fallbacks += worker->counters.lps_fallback;
    }
  }
  if (first_error) std::rethrow_exception(first_error);
  stats.num_regions = regions;
  stats.num_near_degenerate = near_degenerate;
  stats.num_exact_decisions += exact_decisions;
  stats.num_lps += lps;
  stats.num_lp_fallbacks += fallbacks;
}

void check_inputs(const Network& net, const Domain& domain, const EnumerateOptions& options) {
  net.validate();
  domain.validate();
  if (domain.dim() != net.input_dim()) {
    std::ostringstream msg;
    msg << "domain " << domain.describe() << " has dimension " << domain.dim() << " but the network"
        << (net.source.empty() ? "" : " " + net.source) << " has " << net.input_dim() << " inputs";
    throw InputError(msg.str());
  }
  if (!(options.tolerance > 0) || !std::isfinite(options.tolerance)) {
    std::ostringstream msg;
    msg << "tolerance: expected a positive number, got " << options.tolerance;
    throw InputError(msg.str());
  }
  if (options.num_threads < 0 || options.num_threads > kMaxThreads)
    throw InputError("threads: expected 0 (all cores) or a number from 1 to " + std::to_string(kMaxThreads) +
                     ", got " + std::to_string(options.num_threads));
}

EnumerateStats enumerate_impl(const Network& net, const Domain& domain, const EnumerateOptions& options,
                              const RegionVisitor* visit, const RegionFormatter* format = nullptr,
                              const TextConsumer* consume = nullptr) {
  const auto start = Clock::now();
  check_inputs(net, domain, options);
  const detail::FlatNetwork flat(net);
  EnumerateStats stats;
  stats.engine = resolve_engine(options.engine, domain.dim(), options.with_vertices || options.with_volume);
  stats.num_threads = resolve_threads(options.num_threads);
  stats.tolerance_abs = options.tolerance * domain.diameter();
  if (stats.engine == Engine::kExact) {
    if (domain.dim() > 20) throw InputError("engine exact: the box in dimension " + std::to_string(domain.dim()) + " has too many corners");
    const Eigen::VectorXd origin = Eigen::VectorXd::Zero(domain.dim()), unit = Eigen::VectorXd::Ones(domain.dim());
    Shared shared{flat, domain, origin, unit, options, visit, format, consume, 0.0};
    const detail::ExactEngine engine(net, domain);
    run_engine(engine, shared, stats.num_threads, stats);
  } else {
    const detail::NormalizedProblem problem = detail::normalize(flat, domain);
    if (!problem.representable)
      throw UncertifiedError("the network's first layer times the domain's size exceeds the range of doubles; "
                             "use engine exact, or a smaller domain");
    const double tolerance_abs = options.tolerance * problem.domain.diameter();
    Shared shared{flat, domain, problem.centre, problem.scale, options, visit, format, consume, 1000 * tolerance_abs};
    // What floating point cannot decide goes to exact arithmetic, on the network and domain as given.
    const detail::ExactFallback exact(net, domain);
    if (stats.engine == Engine::kVertex) {
      const detail::VertexEngine engine(problem.flat, problem.domain, tolerance_abs, exact, problem.centre,
                                        problem.scale);
      run_engine(engine, shared, stats.num_threads, stats);
    } else {
      const detail::LpEngine engine(problem.flat, problem.domain, tolerance_abs, exact, problem.centre, problem.scale);
      run_engine(engine, shared, stats.num_threads, stats);
    }
  }
  stats.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return stats;
}

}  // namespace

EnumerateStats enumerate_regions(const Network& net, const Domain& domain, const EnumerateOptions& options,
                                 const RegionVisitor& visit) {
  return enumerate_impl(net, domain, options, &visit);
}

EnumerateStats enumerate_formatted(const Network& net, const Domain& domain, const EnumerateOptions& options,
                                   const RegionFormatter& format, const TextConsumer& consume) {
  return enumerate_impl(net, domain, options, nullptr, &format, &consume);
}

std::vector<Region> enumerate_regions(const Network& net, const Domain& domain, const EnumerateOptions& options) {
  std::vector<Region> regions;
  enumerate_regions(net, domain, options, [&](const Region& r) { regions.push_back(r); });
  return regions;
}

EnumerateStats count_regions(const Network& net, const Domain& domain, const EnumerateOptions& options) {
  return enumerate_impl(net, domain, options, nullptr);
}

}  // namespace relutope
