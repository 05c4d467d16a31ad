// relutope bounds: the table of known bounds for an architecture or a model.
#include <cstdio>
#include <iostream>

#include "cli_common.h"
#include "cli_options.h"
#include "option_values.h"
#include "relutope/io.h"

namespace relutope::cli {

namespace {

std::string shown(const Bound& b, bool full) {
  if (!b.applies) return "n/a";
  if (full || b.value.size() <= 22) return b.value;
  char text[64];
  std::snprintf(text, sizeof text, "%.6fe%d", std::pow(10.0, b.log10 - std::floor(b.log10)), static_cast<int>(std::floor(b.log10)));
  return text;
}

}  // namespace

int run_bounds(const BoundsOptions& options) {
  Architecture arch;
  std::vector<Bound> bounds;
  nlohmann::ordered_json out;
  if (!options.model.empty()) {
    const CountingDomain chosen = choose_domain(load_network(options.model), options.where);
    const Network& net = chosen.net;
    arch = Architecture::of(net);
    bounds = model_bounds(net, chosen.domain);
    out["model"] = options.model;
    out["domain"] = domain_object(chosen);
    out["ranks"] = arch.ranks;
    if (!options.json)
      std::printf("Bounds on the number of regions of %s (ranks of W: %s; stable neurons by interval bounds over %s%s)\n",
                  options.model.c_str(), join(arch.ranks).c_str(), chosen.domain.describe().c_str(), domain_note(chosen).c_str());
  } else {
    arch = with_option_name("--arch", [&] { return parse_architecture(options.arch); });
    bounds = region_bounds(arch);
  }
  out["input_dim"] = arch.input_dim;
  out["hidden_widths"] = arch.widths;
  out["neurons"] = arch.num_neurons();
  if (options.json) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const Bound& b : bounds) {
      nlohmann::ordered_json row = {{"id", b.id}, {"name", b.name}, {"kind", bound_kind_name(b.kind)}, {"applies", b.applies}};
      if (b.applies) {
        row["value"] = b.value;
        row["log10"] = b.log10;
      }
      row["verified"] = b.verified;
      if (!b.reason.empty()) row["reason"] = b.reason;
      rows.push_back(row);
    }
    out["bounds"] = rows;
    if (const Bound* best = tightest_upper_bound(bounds)) out["tightest_upper"] = best->id;
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::printf("input dimension %d, hidden widths %s, %d neurons\n\n", arch.input_dim, join(arch.widths).c_str(), arch.num_neurons());
  std::printf("%-12s %-24s %8s  %s\n", "kind", "value", "log10", "result");
  for (const Bound& b : bounds) {
    const std::string value = shown(b, options.full);
    std::printf("%-12s %-24s %8s  %s%s\n", bound_kind_name(b.kind), value.c_str(),
                b.applies ? std::to_string(b.log10).substr(0, std::to_string(b.log10).find('.') + 3).c_str() : "",
                b.name.c_str(), b.verified ? "" : " *");
    if (!b.reason.empty()) std::printf("%-12s %-24s %8s    %s\n", "", "", "", b.reason.c_str());
  }
  if (const Bound* best = tightest_upper_bound(bounds)) std::printf("\ntightest upper bound: %s\n", best->name.c_str());
  std::printf("* exact form not confirmed from the paper, or our own derivation (see README, \"Bounds\")\n"
              "lower bounds and 'exact max' speak of the largest count over all weights, not of a given network\n");
  return 0;
}

}  // namespace relutope::cli
