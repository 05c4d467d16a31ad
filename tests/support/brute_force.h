#pragma once
// Sampling oracle: the activation patterns met by seeded uniform samples of a box. Every sampled
// pattern must be among the enumerated regions (a sample lands on a boundary with probability 0).
#include <random>
#include <set>
#include <string>

#include "relutope/domain.h"
#include "relutope/network.h"

namespace brute_force {

// One character per pattern entry, '0' + state, written here from the definitions (not the
// library's forward pass): a ReLU-family row is active where z > 0 and has no entry when its slope
// is 1; a Max unit of k >= 2 rows holds the index of its largest row (the first of equal ones),
// and outputs that row.
inline std::string pattern_at(const relutope::Network& net, const Eigen::VectorXd& x) {
  using relutope::Activation;
  std::string pattern;
  Eigen::VectorXd h = x;
  for (const relutope::Layer& layer : net.layers) {
    Eigen::VectorXd z = layer.weight * h + layer.bias;
    if (layer.activation == Activation::kMax) {
      const int units = layer.unit_rows.empty() ? static_cast<int>(z.size()) : static_cast<int>(layer.unit_rows.size());
      Eigen::VectorXd y(units);
      for (int u = 0, row = 0; u < units; ++u) {
        const int rows = layer.unit_rows.empty() ? 1 : layer.unit_rows[u];
        int best = 0;
        for (int k = 1; k < rows; ++k)
          if (z[row + k] > z[row + best]) best = k;
        if (rows >= 2) pattern += static_cast<char>('0' + best);
        y[u] = z[row + best];
        row += rows;
      }
      z = y;
    } else if (layer.activation != Activation::kNone) {
      for (Eigen::Index i = 0; i < z.size(); ++i) {
        const double slope = layer.slope_below(static_cast<int>(i));
        if (slope != 1.0) pattern += z[i] > 0 ? '1' : '0';
        if (z[i] < 0) z[i] *= slope;
      }
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
