#include "relutope/random_network.h"

#include <cmath>
#include <random>

namespace relutope {

namespace {

// std::uniform_real_distribution and std::normal_distribution differ between standard libraries;
// these transforms do not, so seeded networks are the same everywhere.
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

double normal(std::mt19937_64& rng) {
  const double u1 = 1.0 - uniform01(rng), u2 = uniform01(rng);  // Box-Muller, u1 in (0, 1]
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

}  // namespace

Network random_network(int input_dim, const std::vector<int>& widths, int output_dim, std::uint64_t seed,
                       RandomInit init, double bias_std) {
  std::mt19937_64 rng(seed);
  Network net;
  net.source = "random(seed=" + std::to_string(seed) + ")";
  int fan_in = input_dim;
  for (std::size_t l = 0; l <= widths.size(); ++l) {
    const bool last = l == widths.size();
    const int fan_out = last ? output_dim : widths[l];
    Layer layer;
    layer.weight.resize(fan_out, fan_in);
    layer.bias.resize(fan_out);
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    const double he = std::sqrt(2.0 / fan_in);
    for (int i = 0; i < fan_out; ++i) {
      for (int j = 0; j < fan_in; ++j)
        layer.weight(i, j) = init == RandomInit::kHe ? he * normal(rng) : bound * (2 * uniform01(rng) - 1);
      layer.bias[i] = init == RandomInit::kHe ? bias_std * normal(rng) : bound * (2 * uniform01(rng) - 1);
    }
    layer.activation = last ? Activation::kNone : Activation::kRelu;
    net.layers.push_back(std::move(layer));
    fan_in = fan_out;
  }
  return net;
}

}  // namespace relutope
