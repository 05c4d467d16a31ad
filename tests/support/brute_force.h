#pragma once
// Sampling oracle: the activation patterns met by seeded uniform samples of a box. Every sampled
// pattern must be among the enumerated regions (a sample lands on a boundary with probability 0).
#include <random>
#include <set>
#include <string>

#include "relutope/domain.h"
#include "relutope/network.h"

namespace brute_force {

inline std::string pattern_at(const relutope::Network& net, const Eigen::VectorXd& x) {
  std::string pattern;
  Eigen::VectorXd h = x;
  for (const relutope::Layer& layer : net.layers) {
    Eigen::VectorXd z = layer.weight * h + layer.bias;
    if (layer.splits())
      for (Eigen::Index i = 0; i < z.size(); ++i) {
        pattern += z[i] > 0 ? '1' : '0';
        if (z[i] < 0) z[i] *= layer.slope_below(static_cast<int>(i));
      }
    h = z;
  }
  return pattern;
}

inline std::set<std::string> sampled_patterns(const relutope::Network& net, const relutope::Domain& domain,
                                              int num_samples, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::set<std::string> out;
  Eigen::VectorXd x(domain.dim());
  for (int s = 0; s < num_samples; ++s) {
    for (int i = 0; i < domain.dim(); ++i) x[i] = domain.lo[i] + u(rng) * (domain.hi[i] - domain.lo[i]);
    out.insert(pattern_at(net, x));
  }
  return out;
}

}  // namespace brute_force
