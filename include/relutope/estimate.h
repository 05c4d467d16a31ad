#pragma once
// Estimating the number of regions and the run time of a count without running it.
#include <cstdint>
#include <vector>

#include "relutope/domain.h"
#include "relutope/enumerate.h"
#include "relutope/network.h"

namespace relutope {

/// How estimate_regions runs.
struct EstimateOptions {
  /// The count being estimated: engine, tolerance (the search tree depends on both), num_threads
  /// (the probes run on these threads) and cancel. Limits, checkpoints and geometry are ignored.
  EnumerateOptions run;
  /// Probes to run, 2 to kMaxProbes (fewer when time_budget runs out first, but at least 2).
  int num_probes = 10000;
  /// Seconds after which no new probe starts (0 = none). The probes under way finish, so a call can
  /// take up to one probe longer. With a budget the number of probes depends on the machine; the
  /// estimate from a given number of probes does not.
  double time_budget = 0;
  /// Probe i follows the random path that (seed, i) picks, on any thread: the same seed and number
  /// of probes give the same estimate for every thread count.
  std::uint64_t seed = 0;
  /// The threads of the count whose time RegionEstimate::count_seconds predicts (0 = those of run).
  int count_threads = 0;
};

/// The largest EstimateOptions::num_probes.
constexpr int kMaxProbes = 100000000;

/// What estimate_regions found. Knuth's estimator: a probe walks from the root of the engine's
/// search tree to a leaf, choosing a child uniformly at random at each split (a Max unit's k-way
/// split is one split with k children), and reports the product of the numbers of children it saw.
/// That product is an unbiased estimate of the number of leaves, the regions (Knuth 1975,
/// "Estimating the efficiency of backtrack programs"); the same product summed over the nodes of
/// the path estimates the tree's size, and the products times each node's measured cost its run time.
struct RegionEstimate {
  double regions = 0;    ///< the mean of the probes: an unbiased estimate of the number of regions
  double std_error = 0;  ///< the standard error of the mean: sample standard deviation / sqrt(num_probes)
  /// The 95% confidence interval: regions -/+ t(0.975, num_probes - 1) * std_error, with the lower end
  /// at least 1 (every domain has a region). The probes' distribution is skewed (rare paths through
  /// much-split parts of the input give very large products): docs/estimate.md measures how often
  /// the interval holds the true count.
  double low = 0, high = 0;
  int num_probes = 0;          ///< probes run
  std::vector<double> probes;  ///< each probe's estimate, in probe order (their mean is `regions`)
  double tree_nodes = 0;       ///< estimated nodes of the search tree (splits and leaves)
  double mean_depth = 0;       ///< splits on a probe's path, averaged
  /// Estimated seconds of count_regions with the same engine and count_threads threads (assumes the
  /// threads share the work evenly; the cost per node is measured on the probes' nodes).
  double count_seconds = 0;
  double seconds = 0;  ///< the probes took
  Engine engine = Engine::kAuto;  ///< the engine whose search tree was probed (never kAuto)
  int num_threads = 1;            ///< threads the probes ran on
};

/// Estimates the number of regions of `net` in `domain`, and the time a count would take, from
/// random probes of the search tree count_regions walks with the same options.
/// @param[in] net      network with d = net.input_dim() inputs; validated here
/// @param[in] domain   bounded input domain; domain.dim() == d
/// @param[in] options  the count to estimate, the number of probes, a time budget and the seed
/// @return the estimate, its interval and the probes; deterministic in (seed, num_probes) for any
///         thread count
/// @throws InputError as count_regions, or for num_probes outside 2..kMaxProbes or a negative
///         time_budget; UncertifiedError as count_regions; Cancelled when options.run.cancel is set
RegionEstimate estimate_regions(const Network& net, const Domain& domain, const EstimateOptions& options = {});

/// The 0.975 quantile of Student's t distribution with `dof` >= 1 degrees of freedom (the 95%
/// two-sided interval's factor): 12.706 for 1, 2.0930 for 19, 1.9600 in the limit.
double student_t975(int dof);

}  // namespace relutope
