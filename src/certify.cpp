#include "relutope/certify.h"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <map>
#include <set>

#include "relutope/error.h"

namespace relutope {

namespace {

// Every region's pattern with the identities of its facets: "d<k>" for domain constraint k, "n<g>"
// for global neuron g.
std::map<std::string, std::set<std::string>> regions_with_facets(const Network& net, const Domain& domain,
                                                                 EnumerateOptions options) {
  options.with_geometry = true;
  const std::vector<int> widths = net.hidden_widths();
  std::vector<int> offsets;
  for (int l = 0, offset = 0; l < static_cast<int>(net.layers.size()); ++l) {
    offsets.push_back(offset);
    if (net.layers[l].splits()) offset += net.layers[l].num_out();
  }
  std::map<std::string, std::set<std::string>> out;
  enumerate_regions(net, domain, options, [&](const Region& r) {
    std::set<std::string>& facets = out[pattern_string(r.pattern, widths)];
    for (const Halfspace& h : r.halfspaces)
      facets.insert(h.origin.kind == HalfspaceOrigin::Kind::kDomain ? "d" + std::to_string(h.origin.neuron)
                                                                    : "n" + std::to_string(offsets[h.origin.layer] + h.origin.neuron));
  });
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
