#include "cli_common.h"

#include <sstream>
#include <stdexcept>

#include "relutope/neurons.h"

namespace relutope::cli {

std::string ChosenDomain::note() const {
  if (source == "default") return " (default; set another with --box)";
  if (source == "model") return " (from the model file)";
  return "";
}

ChosenDomain choose_domain(const Network& net, const std::string& box) {
  if (!box.empty()) return {parse_box(box, net.input_dim()), "--box"};
  if (net.default_domain) return {*net.default_domain, "model"};
  return {Domain::cube(net.input_dim(), -1, 1), "default"};
}

std::string with_commas(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string join(const std::vector<int>& values, const char* separator) {
  std::ostringstream out;
  for (std::size_t i = 0; i < values.size(); ++i) out << (i ? separator : "") << values[i];
  return out.str();
}

std::vector<double> to_std(const Eigen::VectorXd& v) { return {v.data(), v.data() + v.size()}; }

nlohmann::ordered_json domain_json(const ChosenDomain& chosen) {
  return {{"lo", to_std(chosen.domain.lo)}, {"hi", to_std(chosen.domain.hi)}, {"source", chosen.source}};
}

std::vector<Bound> model_bounds(const Network& net, const Domain& domain) {
  Architecture arch = Architecture::of(net);
  count_stable(neuron_states_by_intervals(net, domain), arch.stably_inactive, arch.stably_active);
  return region_bounds(arch);
}

void check_against_bounds(std::uint64_t count, const std::vector<Bound>& bounds) {
  for (const Bound& b : bounds)
    if (b.applies && b.kind == Bound::Kind::kUpper && compare_count(count, b.value) > 0)
      throw std::logic_error("the count " + std::to_string(count) + " exceeds the proven upper bound " + b.value + " (" +
                             b.name + "): this is a bug in relutope, please report it with the model and the command");
}

}  // namespace relutope::cli
