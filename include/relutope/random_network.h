#pragma once
#include <cstdint>
#include <vector>

#include "relutope/network.h"

namespace relutope {

/// How random weights are drawn.
enum class RandomInit {
  kTorchDefault,  ///< PyTorch nn.Linear's default: W and b uniform in +-1/sqrt(fan_in)
  kHe,            ///< He normal: W ~ N(0, 2/fan_in), b ~ N(0, bias_std^2) (Hanin & Rolnick 2019)
};

/// A ReLU MLP input_dim -> widths... -> output_dim (last layer affine), drawn from `seed`.
/// The same arguments give the same network on every platform (std::mt19937_64, own transforms).
Network random_network(int input_dim, const std::vector<int>& widths, int output_dim, std::uint64_t seed,
                       RandomInit init = RandomInit::kTorchDefault, double bias_std = 1e-3);

}  // namespace relutope
