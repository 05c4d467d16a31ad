#pragma once
// Pieces the commands share: choosing the domain, formatting numbers, the bounds summary.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "relutope/bounds.h"
#include "relutope/domain.h"
#include "relutope/network.h"

namespace relutope::cli {

/// The domain a command runs on: --box if given, else the model's own, else [-1,1]^d.
struct ChosenDomain {
  Domain domain;
  std::string source;  ///< "--box", "model" or "default"
  std::string note() const;  ///< text to print after the domain
};
ChosenDomain choose_domain(const Network& net, const std::string& box);

std::string with_commas(std::uint64_t n);
std::string join(const std::vector<int>& values, const char* separator = ",");
std::vector<double> to_std(const Eigen::VectorXd& v);
nlohmann::ordered_json domain_json(const ChosenDomain& chosen);

/// The bounds of `net` with its weight ranks and the neurons that intervals prove stable on `domain`.
std::vector<Bound> model_bounds(const Network& net, const Domain& domain);

/// Checks `count` against every applicable proven upper bound; a count above one is a bug in relutope.
/// @throws std::logic_error (exit 3) naming the bound
void check_against_bounds(std::uint64_t count, const std::vector<Bound>& bounds);

}  // namespace relutope::cli
