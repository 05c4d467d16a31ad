#pragma once
// Estimating the number of regions and the run time of a count without running it.
#include <cstdint>
#include <string>
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
  /// Probes to run, 2 to kMaxProbes (fewer when time_budget runs out first, but at least two per
  /// stratum; see RegionEstimate).
  int num_probes = 10000;
  /// Subtrees to spread the probes over (see RegionEstimate): 0 = num_probes / 2 (at most
  /// kMaxStrata), 1 = Knuth's plain estimator from the root; at most num_probes / 2.
  int strata = 0;
  /// Seconds after which no new probe starts (0 = none). The probes under way finish, so a call can
  /// take up to one probe longer, and at least two probes per stratum run. With a budget the
  /// numbers of strata and probes depend on the machine; without one, the estimate does not.
  double time_budget = 0;
  /// Probe i follows the random path that (seed, i) picks, on any thread: the same seed and number
  /// of probes give the same estimate for every thread count.
  std::uint64_t seed = 0;
  /// The threads of the count whose time RegionEstimate::count_seconds predicts (0 = those of run).
  int count_threads = 0;
};

/// The largest EstimateOptions::num_probes.
constexpr int kMaxProbes = 100000000;
/// The most strata the automatic choice (EstimateOptions::strata = 0) takes.
constexpr int kMaxStrata = 1 << 14;

/// What estimate_regions found. Knuth's estimator, stratified: the top of the engine's search tree
/// is walked exactly, breadth-first, until its frontier holds EstimateOptions::strata subtrees
/// (fewer when a sixteenth of time_budget runs out first); probe i then walks from the root of subtree i % strata to a leaf, choosing a child
/// uniformly at random at each split (a Max unit's k-way split is one split with k children), and
/// reports the product of the numbers of children it saw. That product is an unbiased estimate of the
/// subtree's leaves (Knuth 1975, "Estimating the efficiency of backtrack programs"), so the leaves met
/// above the frontier plus each subtree's mean estimate the regions; the same products summed over the
/// path's nodes estimate the tree's size, and times each node's measured cost the run time. Strata keep
/// the rare, much-split parts of the input (whose products are huge) from being missed by a whole
/// sample: docs/estimate.md measures the interval's coverage.
struct RegionEstimate {
  double regions = 0;    ///< leaves above the frontier plus the strata's means: an unbiased estimate of the regions
  double std_error = 0;  ///< its standard error: sqrt of the sum over strata of variance / probes in the stratum
  /// The 95% confidence interval: regions -/+ t(0.975, dof) * std_error, dof by Welch-Satterthwaite
  /// over the strata, with the lower end at least the regions certainly there: the leaves above the
  /// frontier plus one per stratum (each subtree is a cell with a region in it). Exact (low == high
  /// == regions) when the walk of the top reached every leaf.
  double low = 0, high = 0;
  int num_probes = 0;          ///< probes run: at least two per stratum (0 when the top was the whole tree)
  int strata = 0;              ///< subtrees the probes were spread over (0 when the top was the whole tree)
  std::vector<double> probes;  ///< each probe's estimate of its subtree's leaves, in probe order
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
///         time_budget, or strata outside 0..num_probes / 2; UncertifiedError as count_regions; Cancelled when options.run.cancel is set
RegionEstimate estimate_regions(const Network& net, const Domain& domain, const EstimateOptions& options = {});

/// How check_estimate_options names EstimateOptions' fields in its messages: a front end passes the
/// names its users know (the command line, its option names).
struct EstimateOptionNames {
  std::string num_probes = "num_probes";
  std::string strata = "strata";
  std::string time_budget = "time_budget";
  std::string count_threads = "count_threads";
};

/// Checks the fields of `options` that estimate_regions adds to a count's (num_probes, strata,
/// time_budget, count_threads), as estimate_regions does first; for a caller that wants them
/// checked before loading a network.
/// @throws InputError naming the field (as `names` has it), the range expected and the value given
void check_estimate_options(const EstimateOptions& options, const EstimateOptionNames& names = {});

/// The 0.975 quantile of Student's t distribution with `dof` >= 1 degrees of freedom (the 95%
/// two-sided interval's factor): 12.706 for 1, 2.0930 for 19, 1.9600 in the limit.
double student_t975(int dof);

}  // namespace relutope
