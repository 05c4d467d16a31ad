#include "relutope/certify.h"

#include <algorithm>
#include <chrono>
#include <string_view>

#include "detail/compare_passes.h"
#include "detail/enumerate_leaves.h"
#include "detail/require_complete.h"
#include "engines/exact_engine.h"
#include "relutope/error.h"
#include "relutope/region.h"

namespace relutope {

namespace detail {

std::string leaf_key(const Leaf& leaf, int num_neurons) {
  std::vector<ConstraintCode> codes = leaf.constraints;
  std::sort(codes.begin(), codes.end());
  codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
  std::string key(reinterpret_cast<const char*>(leaf.pattern), static_cast<std::size_t>(num_neurons));
  key.append(reinterpret_cast<const char*>(codes.data()), codes.size() * sizeof(ConstraintCode));
  return key;
}

Certificate compare_passes(std::vector<std::string> exact, std::vector<std::string> floating, const Network& net) {
  const std::size_t n = static_cast<std::size_t>(net.num_neurons());
  auto pattern = [n](const std::string& key) { return std::string_view(key).substr(0, n); };
  auto text = [&](const std::string& key) {
    const std::string_view p = pattern(key);
    return pattern_string(ActivationPattern(p.begin(), p.end()), net);
  };
  // Sorted, a key's pattern (its first n bytes, the same length in every key) orders it first.
  std::sort(exact.begin(), exact.end());
  std::sort(floating.begin(), floating.end());
  Certificate c;
  c.certified = true;
  c.num_regions = exact.size();
  c.float_regions = floating.size();
  std::size_t j = 0;
  auto invented = [&](const std::string& key) {
    ++c.float_invented;
    if (c.invented_patterns.size() < 10) c.invented_patterns.push_back(text(key));
  };
  for (std::size_t i = 0; i < exact.size(); ++i) {
    const std::string_view p = pattern(exact[i]);
    if (i > 0 && pattern(exact[i - 1]) == p)
      throw UncertifiedError("the exact pass reported the region of pattern " + text(exact[i]) + " twice");
    for (; j < floating.size() && pattern(floating[j]) < p; ++j) invented(floating[j]);
    c.facets_certified += (exact[i].size() - n) / sizeof(ConstraintCode);
    if (j == floating.size() || pattern(floating[j]) != p) {
      ++c.float_missed;
      if (c.missed_patterns.size() < 10) c.missed_patterns.push_back(text(exact[i]));
      continue;
    }
    if (floating[j++] != exact[i]) ++c.float_facets_wrong;
  }  // a float leaf of pattern p after the first is invented by the loop above, or by the one below
  for (; j < floating.size(); ++j) invented(floating[j]);
  return c;
}

}  // namespace detail

namespace {

// The leaf keys (detail::leaf_key) of every region, in task order.
std::vector<std::string> leaf_keys(const Network& net, const Domain& domain, EnumerateOptions options) {
  options.with_geometry = true;  // the facets' constraint codes, and nothing built from them
  options.with_vertices = false;
  options.with_volume = false;
  options.mpi = false;  // each rank certifies on its own, and consumes its keys itself
  const int num_neurons = net.num_neurons();
  std::vector<std::string> keys;
  const EnumerateStats stats = detail::enumerate_leaves(
      net, domain, options, [num_neurons](const detail::Leaf& leaf) { return detail::leaf_key(leaf, num_neurons); },
      [&keys](const std::string& key) { keys.push_back(key); });
  detail::require_complete(stats, "certification");
  return keys;
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
  EnumerateOptions exact_options = options, float_options = options;
  exact_options.engine = Engine::kExact;
  float_options.engine = Engine::kVertex;
  std::vector<std::string> exact;
  {
    // The keys are patterns and facets: the exact engine need not compute the vertices that its
    // floating-point filter decides (every vertex of the bench nets).
    const detail::ExactVerticesOnDemand on_demand;
    exact = leaf_keys(net, domain, exact_options);
  }
  if (options.time_limit > 0)  // what is left of it, for the second pass
    float_options.time_limit =
        std::max(1e-9, options.time_limit - std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  std::vector<std::string> floating = leaf_keys(net, domain, float_options);
  Certificate c = detail::compare_passes(std::move(exact), std::move(floating), net);
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return c;
}

}  // namespace relutope
