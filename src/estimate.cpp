#include "relutope/estimate.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>

#include "detail/engine_setup.h"
#include "detail/flat_network.h"
#include "detail/helper_threads.h"
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

// The top of the search tree, walked exactly: the probes then estimate only the subtrees below
// its frontier, each separately (stratified sampling). The rare, much-split parts of the input that
// make single probes so skewed are then confined to their own strata instead of being missed by a
// whole sample.
template <class Task>
struct TreeTop {
  std::vector<Task> frontier;  // the strata: subtrees not yet expanded
  std::vector<int> depth;      // splits above each
  double leaves = 0;           // leaves met above the frontier (counted exactly)
  double nodes = 0;            // nodes expanded above the frontier
  double cost = 0;             // their seconds
};

// Expands the root breadth-first until the frontier holds at least `strata` subtrees, the tree
// ends (then the count is exact) or `seconds` have passed (> 0; the probes need time too).
// Single-threaded and in a fixed order, so that the strata are the same for every thread count
// (unless the time runs out).
template <class EngineT>
TreeTop<typename EngineT::Task> walk_top(const EngineT& engine, typename EngineT::Worker& worker, std::size_t strata,
                                         double seconds, const std::atomic<bool>* cancel) {
  const auto start = Clock::now();
  TreeTop<typename EngineT::Task> top;
  std::deque<std::pair<typename EngineT::Task, int>> queue;
  queue.emplace_back(engine.root_task(), 0);
  while (!queue.empty() && queue.size() < strata && !(seconds > 0 && seconds_since(start) >= seconds)) {
    if (cancel && cancel->load(std::memory_order_relaxed)) throw Cancelled("estimate cancelled");
    auto [task, depth] = std::move(queue.front());
    queue.pop_front();
    const auto start = Clock::now();
    bool split = false;
    std::vector<typename EngineT::Task> children = worker.expand(task, split);
    ++top.nodes;
    if (!split) {
      CountingSink sink;
      for (const auto& child : children) worker.run(child, sink);
      top.leaves += static_cast<double>(sink.num_leaves);
    } else {
      for (auto& child : children) queue.emplace_back(std::move(child), depth + 1);
    }
    top.cost += seconds_since(start);
  }
  for (auto& [task, depth] : queue) {
    top.frontier.push_back(std::move(task));
    top.depth.push_back(depth);
  }
  return top;
}

// One probe (Knuth 1975): from `task`, expand to its children at the next split, go on with one of
// them chosen uniformly, and multiply the weight by their number. A task that reaches a leaf (or a
// subtree the engine does not cut) without splitting is run to its end and its leaves counted:
// usually one. The result estimates the leaves below `task`.
template <class EngineT>
Probe run_probe(typename EngineT::Task task, typename EngineT::Worker& worker, std::uint64_t seed, std::uint64_t index) {
  ProbeRng rng(seed, index);
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

// The strata for `num_probes` probes: enough that the top of the tree takes the skew out, few
// enough that every stratum gets several probes (a stratum's spread needs two at least).
// The strata for num_probes probes, unless set: two probes per stratum, the fewest that give a stratum's
// spread. More strata with fewer probes each measured better (tests/estimate_study.py: median error
// 2.3% against 6.7% at 10^4 probes with 16 per stratum) since each probe's path below the top is
// shorter, hence its product less skewed.
std::size_t num_strata(const EstimateOptions& options) {
  return static_cast<std::size_t>(options.strata > 0 ? options.strata : std::clamp(options.num_probes / 2, 1, kMaxStrata));
}

struct Probes {
  std::vector<Probe> probes;  // probe i ran in stratum i % strata
  std::size_t strata = 0;     // 0 when the top of the tree was the whole tree
  double leaves = 0, nodes = 0, cost = 0;  // of the top
  std::vector<int> depth;     // of each stratum's root
};

// Walks the top of the tree, then runs probes 0, 1, ... (probe i in stratum i % strata) on `threads`
// threads until num_probes have run or the budget is spent (but at least two per stratum). Probes
// start in index order and every one started finishes, so the probes kept are always 0..n-1.
template <class EngineT>
Probes run_probes(const EngineT& engine, const EstimateOptions& options, int threads) {
  const auto start = Clock::now();
  Probes out;
  std::vector<typename EngineT::Task> frontier;
  {
    typename EngineT::Worker worker(engine);
    // A sixteenth of the budget: the two probes per stratum that must follow take longer than the
    // walk (they go deeper), and the budget should hold roughly.
    auto top = walk_top(engine, worker, num_strata(options), options.time_budget / 16, options.run.cancel);
    out.leaves = top.leaves;
    out.nodes = top.nodes;
    out.cost = top.cost;
    out.depth = std::move(top.depth);
    frontier = std::move(top.frontier);
  }
  out.strata = frontier.size();
  if (frontier.empty()) return out;
  const std::int64_t least = 2 * static_cast<std::int64_t>(out.strata);
  const std::int64_t wanted = std::max<std::int64_t>(options.num_probes, least);
  out.probes.resize(static_cast<std::size_t>(wanted));
  std::atomic<std::int64_t> next{0};
  std::atomic<bool> out_of_time{false};
  std::exception_ptr first_error;
  std::mutex mutex;  // the probes' start, first_error
  detail::run_with_helpers(threads, [&] {
    try {
      typename EngineT::Worker worker(engine);
      for (;;) {
        if (options.run.cancel && options.run.cancel->load(std::memory_order_relaxed))
          throw Cancelled("estimate cancelled");
        std::int64_t i;
        {
          // Deciding to start and taking the index together keeps the started probes a prefix.
          std::lock_guard<std::mutex> lock(mutex);
          if (!out_of_time && options.time_budget > 0 && next >= least && seconds_since(start) >= options.time_budget)
            out_of_time = true;
          i = out_of_time || next >= wanted || first_error ? -1 : next++;
        }
        if (i < 0) break;
        out.probes[static_cast<std::size_t>(i)] = run_probe<EngineT>(
            frontier[static_cast<std::size_t>(i) % out.strata], worker, options.seed, static_cast<std::uint64_t>(i));
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!first_error) first_error = std::current_exception();
      out_of_time = true;  // the others stop at their next probe
    }
  });
  if (first_error) std::rethrow_exception(first_error);
  out.probes.resize(static_cast<std::size_t>(next.load()));
  return out;
}

}  // namespace

void check_estimate_options(const EstimateOptions& options, const EstimateOptionNames& names) {
  if (options.num_probes < 2 || options.num_probes > kMaxProbes)
    throw InputError(names.num_probes + ": expected a number from 2 to " + std::to_string(kMaxProbes) + ", got " +
                     std::to_string(options.num_probes));
  if (options.strata < 0 || options.strata > options.num_probes / 2)
    throw InputError(names.strata + ": expected 0 (automatic) or a number from 1 to " + names.num_probes + " / 2 = " +
                     std::to_string(options.num_probes / 2) + ", got " + std::to_string(options.strata));
  if (!(options.time_budget >= 0) || !std::isfinite(options.time_budget))
    throw InputError(names.time_budget + ": expected a number of seconds >= 0 (0 = none), got " +
                     std::to_string(options.time_budget));
  if (options.count_threads < 0 || options.count_threads > kMaxThreads)
    throw InputError(names.count_threads + ": expected 0 (as run.num_threads) or a number from 1 to " +
                     std::to_string(kMaxThreads) + ", got " + std::to_string(options.count_threads));
}

RegionEstimate estimate_regions(const Network& net, const Domain& domain, const EstimateOptions& options) {
  const auto start = Clock::now();
  detail::check_enumerate_inputs(net, domain, options.run);
  check_estimate_options(options);
  const detail::FlatNetwork flat(net);
  RegionEstimate out;
  out.engine = resolve_engine(options.run.engine, domain.dim(), false);
  out.num_threads = detail::resolve_threads(options.run.num_threads);
  Probes run;
  detail::with_engine(net, domain, flat, out.engine, options.run.tolerance, /*max_margin_points=*/false,
                      [&](const auto& engine, const detail::EngineFrame&) {
                        run = run_probes(engine, options, out.num_threads);
                      });
  // Stratified mean: the top's leaves plus each stratum's mean; its variance is the sum of the
  // strata's variances of the mean, with Welch-Satterthwaite's degrees of freedom for the t factor.
  const std::size_t strata = run.strata;
  std::vector<double> sum(strata, 0), squares(strata, 0), nodes(strata, 0), cost(strata, 0), depth(strata, 0),
      count(strata, 0);
  for (std::size_t i = 0; i < run.probes.size(); ++i) {
    const Probe& p = run.probes[i];
    const std::size_t s = i % strata;
    out.probes.push_back(p.regions);
    sum[s] += p.regions;
    nodes[s] += p.nodes;
    cost[s] += p.cost;
    depth[s] += p.depth;
    count[s] += 1;
  }
  for (std::size_t i = 0; i < run.probes.size(); ++i) {
    const double d = run.probes[i].regions - sum[i % strata] / count[i % strata];
    squares[i % strata] += d * d;
  }
  out.num_probes = static_cast<int>(run.probes.size());
  out.strata = static_cast<int>(strata);
  out.regions = run.leaves;
  out.tree_nodes = run.nodes;
  double seconds = run.cost, variance = 0, dof_denominator = 0, mean_depth = 0;
  for (std::size_t s = 0; s < strata; ++s) {
    out.regions += sum[s] / count[s];
    out.tree_nodes += nodes[s] / count[s];
    seconds += cost[s] / count[s];
    const double v = squares[s] / (count[s] - 1) / count[s];
    variance += v;
    dof_denominator += v * v / (count[s] - 1);
    mean_depth += run.depth[s] + depth[s] / count[s];
  }
  out.std_error = std::sqrt(variance);
  const double dof = dof_denominator > 0 ? variance * variance / dof_denominator : 1e9;
  const double half = student_t975(static_cast<int>(std::min(1e9, std::max(1.0, std::floor(dof))))) * out.std_error;
  // Every subtree below the frontier holds at least one region (a task is a cell of positive
  // volume), so the leaves above it plus the strata are certain: the interval never goes below them.
  out.low = std::max(run.leaves + static_cast<double>(strata), out.regions - half);
  out.high = out.regions + half;
  out.mean_depth = strata ? mean_depth / static_cast<double>(strata) : 0;
  const int count_threads = options.count_threads > 0 ? options.count_threads : detail::resolve_threads(options.run.num_threads);
  out.count_seconds = seconds / count_threads;
  out.seconds = seconds_since(start);
  return out;
}

}  // namespace relutope
