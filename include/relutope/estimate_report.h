#pragma once
// What `relutope estimate` and the Python module's estimate() compute and report.
#include <optional>
#include <string>

#include "relutope/bounds.h"
#include "relutope/counting_domain.h"
#include "relutope/estimate.h"

namespace relutope {

/// The estimate of a count, with the bound it is read against.
struct EstimateReport {
  std::string model;                ///< the model's name as the caller gave it (a file name)
  RegionEstimate estimate;          ///< estimate_regions()
  std::uint64_t seed = 0;           ///< EstimateOptions::seed
  std::optional<Bound> upper_bound; ///< the tightest applicable proven upper bound of model_bounds(), if any
  /// The bound is more than 100 times the interval's upper end: no guide to this network's count.
  bool bound_far_above = false;
};

/// Estimates the regions of where.net in where.domain (estimate_regions) and finds the bound.
/// @throws as estimate_regions
EstimateReport estimate_report(const std::string& model, const CountingDomain& where, const EstimateOptions& options);

/// The JSON object of `relutope estimate --json`, on one line. Keys, in this order: model, regions,
/// low, high, confidence (0.95), std_error, probes, strata, seed, tree_nodes, mean_depth,
/// count_seconds, count_threads, engine, seconds, domain (domain_json), then upper_bound {id, value,
/// log10} when there is one.
std::string estimate_report_json(const EstimateReport& report, const CountingDomain& where);

}  // namespace relutope
