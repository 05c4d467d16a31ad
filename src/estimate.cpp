#include "relutope/estimate.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <limits>
#include <stdexcept>
#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "detail/engine_setup.h"
#include "detail/flat_network.h"
#include "detail/leaf_sink.h"
#include "relutope/error.h"

namespace relutope {

double student_t975(int dof) {
  if (dof < 1) throw std::invalid_argument("student_t975: dof must be at least 1, got " + std::to_string(dof));
  // Exact to 6 digits up to 30; beyond, the Cornish-Fisher expansion around the normal quantile
  // (Abramowitz & Stegun 26.7.5) is within 1e-5.
  static const double table[30] = {12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624, 2.306004,
                                   2.262157,  2.228139, 2.200985, 2.178813, 2.160369, 2.144787, 2.131450, 2.119905,
                                   2.109816,  2.100922, 2.093024, 2.085963, 2.079614, 2.073873, 2.068658, 2.063899,
                                   2.059539,  2.055529, 2.051831, 2.048407, 2.045230, 2.042272};
  if (dof <= 30) return table[dof - 1];
  const double z = 1.959963984540054, v = dof;
  const double z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z;
  return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v) +
         (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v);
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// The random choices of probe `index`: splitmix64 on (seed, index), so that a probe's path does
// not depend on the thread that runs it.
class ProbeRng {
 public:
  ProbeRng(std::uint64_t seed, std::uint64_t index) : state_(seed ^ (0x9E3779B97F4A7C15ull * (index + 1))) { next(); }
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), without modulo bias (rejection of the top remainder).
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
    std::uint64_t r;
    do r = next();
    while (r >= limit);
    return r % n;
  }

 private:
  std::uint64_t state_;
};

struct CountingSink : detail::LeafSink {
  bool wants_constraints() const override { return false; }
  void leaf(const detail::Leaf&) override { ++num_leaves; }
  std::uint64_t num_leaves = 0;
};

struct Probe {
  double regions = 0;  // product of the branching factors times the leaves at the end of the path
  double nodes = 0;    // sum over the path of the product so far
  double cost = 0;     // sum over the path of the product so far times the node's seconds
  int depth = 0;       // splits on the path
};

// One probe (Knuth 1975): from the root, expand the task to its children at the next split, go on
// with one of them chosen uniformly, and multiply the weight by their number. A task that reaches
// a leaf (or a subtree the engine does not cut) without splitting is run to its end and its leaves
// counted: usually one.
template <class EngineT>
Probe run_probe(const EngineT& engine, typename EngineT::Worker& worker, std::uint64_t seed, std::uint64_t index) {
  ProbeRng rng(seed, index);
  typename EngineT::Task task = engine.root_task();
  Probe probe;
  double weight = 1;
  for (;;) {
    const auto start = Clock::now();
    bool split = false;
    std::vector<typename EngineT::Task> children = worker.expand(task, split);
    probe.nodes += weight;
    if (!split) {
      CountingSink sink;
      for (const auto& child : children) worker.run(child, sink);
      probe.cost += weight * seconds_since(start);
      probe.regions = weight * static_cast<double>(sink.num_leaves);
      return probe;
    }
    probe.cost += weight * seconds_since(start);
    weight *= static_cast<double>(children.size());
    ++probe.depth;
    task = std::move(children[rng.below(children.size())]);
  }
}

// Runs probes 0, 1, ... on `threads` threads until num_probes have run or the budget is spent (but
// at least 2). Probes start in index order and every one started finishes, so the probes kept are
// always 0..n-1.
template <class EngineT>
std::vector<Probe> run_probes(const EngineT& engine, const EstimateOptions& options, int threads) {
  const auto start = Clock::now();
  std::vector<Probe> probes(static_cast<std::size_t>(options.num_probes));
  std::atomic<std::int64_t> next{0};
  std::atomic<bool> out_of_time{false};
  std::exception_ptr first_error;
#pragma omp parallel num_threads(threads)
  {
    try {
      typename EngineT::Worker worker(engine);
      for (;;) {
        if (options.run.cancel && options.run.cancel->load(std::memory_order_relaxed))
          throw Cancelled("estimate cancelled");
        std::int64_t i;
#pragma omp critical(relutope_probe_start)
        {
          // Deciding to start and taking the index together keeps the started probes a prefix.
          if (!out_of_time && options.time_budget > 0 && next >= 2 && seconds_since(start) >= options.time_budget)
            out_of_time = true;
          i = out_of_time || next >= options.num_probes ? -1 : next++;
        }
        if (i < 0) break;
        probes[static_cast<std::size_t>(i)] = run_probe(engine, worker, options.seed, static_cast<std::uint64_t>(i));
#pragma omp critical(relutope_first_error)
        if (first_error) i = -1;
        if (i < 0) break;
      }
    } catch (...) {
#pragma omp critical(relutope_first_error)
      if (!first_error) first_error = std::current_exception();
      out_of_time = true;  // the others stop at their next probe
    }
  }
  if (first_error) std::rethrow_exception(first_error);
  probes.resize(static_cast<std::size_t>(next.load()));
  return probes;
}

}  // namespace

RegionEstimate estimate_regions(const Network& net, const Domain& domain, const EstimateOptions& options) {
  const auto start = Clock::now();
  detail::check_enumerate_inputs(net, domain, options.run);
  if (options.num_probes < 2 || options.num_probes > kMaxProbes)
    throw InputError("num_probes: expected a number from 2 to " + std::to_string(kMaxProbes) + ", got " +
                     std::to_string(options.num_probes));
  if (!(options.time_budget >= 0) || !std::isfinite(options.time_budget))
    throw InputError("time_budget: expected a number of seconds >= 0 (0 = none), got " +
                     std::to_string(options.time_budget));
  if (options.count_threads < 0 || options.count_threads > kMaxThreads)
    throw InputError("count_threads: expected 0 (as run.num_threads) or a number from 1 to " +
                     std::to_string(kMaxThreads) + ", got " + std::to_string(options.count_threads));
  const detail::FlatNetwork flat(net);
  RegionEstimate out;
  out.engine = resolve_engine(options.run.engine, domain.dim(), false);
  out.num_threads = detail::resolve_threads(options.run.num_threads);
  std::vector<Probe> probes;
  detail::with_engine(net, domain, flat, out.engine, options.run.tolerance,
                      [&](const auto& engine, const detail::EngineFrame&) {
                        probes = run_probes(engine, options, out.num_threads);
                      });
  const double n = static_cast<double>(probes.size());
  double sum = 0, nodes = 0, cost = 0, depth = 0;
  for (const Probe& p : probes) {
    out.probes.push_back(p.regions);
    sum += p.regions;
    nodes += p.nodes;
    cost += p.cost;
    depth += p.depth;
  }
  out.num_probes = static_cast<int>(probes.size());
  out.regions = sum / n;
  double squares = 0;
  for (const Probe& p : probes) squares += (p.regions - out.regions) * (p.regions - out.regions);
  out.std_error = std::sqrt(squares / (n - 1) / n);
  const double half = student_t975(out.num_probes - 1) * out.std_error;
  out.low = std::max(1.0, out.regions - half);
  out.high = out.regions + half;
  out.tree_nodes = nodes / n;
  out.mean_depth = depth / n;
  const int count_threads = options.count_threads > 0 ? options.count_threads : detail::resolve_threads(options.run.num_threads);
  out.count_seconds = cost / n / count_threads;
  out.seconds = seconds_since(start);
  return out;
}

}  // namespace relutope
