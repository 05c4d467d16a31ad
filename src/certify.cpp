#include "relutope/certify.h"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <map>
#include <set>

#include "detail/require_complete.h"
#include "relutope/error.h"

namespace relutope {

namespace {

// Every region's pattern with the identities of its facets: "d<k>" for domain constraint k,
// "n<layer>.<row>" for a neuron, "m<layer>.<unit>.<row>.<other row>" for a Max unit's piece facet.
std::map<std::string, std::set<std::string>> regions_with_facets(const Network& net, const Domain& domain,
                                                                 EnumerateOptions options) {
  options.with_geometry = true;
  std::map<std::string, std::set<std::string>> out;
  const EnumerateStats stats = enumerate_regions(net, domain, options, [&](const Region& r) {
    std::set<std::string>& facets = out[pattern_string(r.pattern, net)];
    for (const Halfspace& h : r.halfspaces) {
      const HalfspaceOrigin& o = h.origin;
      const std::string at = std::to_string(o.layer) + "." + std::to_string(o.neuron);
      facets.insert(o.kind == HalfspaceOrigin::Kind::kDomain   ? "d" + std::to_string(o.neuron)
                    : o.kind == HalfspaceOrigin::Kind::kNeuron ? "n" + at
                    : "m" + at + "." + std::to_string(o.row) + "." + std::to_string(o.other_row));
    }
  });
  detail::require_complete(stats, "certification");
  return out;
}

}  // namespace

Certificate certify_count(const Network& net, const Domain& domain, const EnumerateOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  net.validate();
  domain.validate();
  if (domain.dim() != net.input_dim())
    throw InputError("domain has dimension " + std::to_string(domain.dim()) + " but the network has " +
                     std::to_string(net.input_dim()) + " inputs");
  if (domain.dim() > kMaxVertexGeometryDim)
    throw InputError("exact certification runs the vertex algorithm, up to " + std::to_string(kMaxVertexGeometryDim) +
                     " inputs; this network has " + std::to_string(domain.dim()));
  Certificate c;
  EnumerateOptions exact_options = options, float_options = options;
  exact_options.engine = Engine::kExact;
  float_options.engine = Engine::kVertex;
  float_options.with_vertices = true;  // facets by the vertices' rank, as the exact pass decides them
  const auto exact = regions_with_facets(net, domain, exact_options);
  if (options.time_limit > 0)  // what is left of it, for the second pass
    float_options.time_limit =
        std::max(1e-9, options.time_limit - std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  const auto floating = regions_with_facets(net, domain, float_options);
  c.certified = true;
  c.num_regions = exact.size();
  c.float_regions = floating.size();
  for (const auto& [p, facets] : exact) {
    const auto it = floating.find(p);
    if (it == floating.end()) {
      ++c.float_missed;
      if (c.missed_patterns.size() < 10) c.missed_patterns.push_back(p);
      continue;
    }
    c.facets_certified += facets.size();
    if (it->second != facets) ++c.float_facets_wrong;
  }
  for (const auto& [p, facets] : floating)
    if (!exact.count(p)) {
      ++c.float_invented;
      if (c.invented_patterns.size() < 10) c.invented_patterns.push_back(p);
    }
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return c;
}

}  // namespace relutope
