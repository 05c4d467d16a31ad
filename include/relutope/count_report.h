#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "relutope/bounds.h"
#include "relutope/certify.h"
#include "relutope/checkpoint.h"
#include "relutope/counting_domain.h"
#include "relutope/enumerate.h"

namespace relutope {

/// What `relutope count` and the Python module's count() compute and report: the count, how it was
/// found, the certificate, the breakpoints along a line and the bounds it was checked against.
struct CountReport {
  std::string model;          ///< the model's name as the caller gave it (a file name)
  EnumerateStats stats;       ///< of the floating-point count; stats.num_regions is the answer (the exact one with a certificate)
  double tolerance = 0;       ///< the relative tolerance asked for (EnumerateOptions::tolerance)
  std::optional<Certificate> certificate;  ///< set when the count was certified in exact arithmetic
  /// Along a line (DomainOrigin::kLine): the parameters t in (0, 1), increasing and distinct, where
  /// the segment passes from one region into the next. Empty otherwise.
  std::vector<double> breakpoints;
  std::vector<Bound> bounds;          ///< model_bounds() of the network on the domain
  std::optional<Bound> upper_bound;   ///< the tightest applicable proven upper bound, if any
  double fraction_of_upper_bound = 0; ///< count / upper_bound (0 without one)
};

/// Counts the regions of where.net in where.domain and checks the count.
/// @param[in] model    the model's name for the report
/// @param[in] where    network and domain (default_domain, on_domain, on_plane, on_line)
/// @param[in] options  threads, engine, tolerance, progress and cancel (geometry is not needed); the
///                     limits and the stop switch, and checkpoints (of the count, not of the later passes)
/// @param[in] exact    also recount in exact rational arithmetic (certify_count); the certified count is the answer
/// @return the report; along a line it has the breakpoints (line_breakpoints). A run stopped early
///         (stats.complete false) has neither certificate nor breakpoints; stopped during those later
///         passes, it has the complete floating-point count, uncertified, still marked complete false
/// @throws InputError as count_regions and certify_count; Cancelled when options.cancel is set;
///         std::logic_error if the count exceeds a proven upper bound (check_against_bounds: a bug)
CountReport count_report(const std::string& model, const CountingDomain& where, const EnumerateOptions& options,
                         bool exact = false);

/// The identity of a count of where.net in where.domain with `options` (run_identity, with
/// "command" "count" first): the CLI and Python both check and save it, so that a checkpoint of
/// one resumes in the other.
RunIdentity count_identity(const CountingDomain& where, const EnumerateOptions& options);

/// The parameters t where a 1-input network's segment [domain.lo, domain.hi] crosses from one region
/// into the next: the regions' inner end points, found with the vertex engine.
/// @param[in] net      a network with one input
/// @param[in] domain   an interval (1-D box)
/// @param[in] options  threads, tolerance and cancel (the engine is always the vertex engine)
/// @return increasing, distinct values strictly inside (domain.lo[0], domain.hi[0]); one fewer than the regions
/// @throws InputError if the network has more than one input, or as enumerate_regions
std::vector<double> line_breakpoints(const Network& net, const Domain& domain, EnumerateOptions options);

/// The JSON object of `relutope count --json`, on one line. Keys, in this order: model, regions,
/// complete (false when the run stopped early: regions is then a lower bound), stopped (null, or why:
/// stop_reason_name), input_dim, hidden_widths, neurons, output_dim, output_head (Network::output_head, null if none),
/// domain (domain_json), breakpoints and segment_length
/// (along a line), engine, threads, tasks, tasks_resumed, seconds, regions_per_second, tolerance, tolerance_abs,
/// near_degenerate, exact_decisions, lps, lp_fallbacks, then with a certificate certified,
/// float_regions, float_missed, float_invented, facets_certified, float_facets_wrong,
/// missed_patterns, invented_patterns, exact_seconds, then upper_bound {id, name, value, log10} and
/// fraction_of_upper_bound when there is an upper bound.
/// @param[in] report  from count_report(…, where, …)
/// @param[in] where   the same network and domain
std::string count_report_json(const CountReport& report, const CountingDomain& where);

}  // namespace relutope
