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
/// @param[in] input_dim   d >= 1
/// @param[in] widths      hidden widths n1..nL (ReLU layers, weights n_l x n_{l-1})
/// @param[in] output_dim  m: the last layer is affine, m x nL
/// @param[in] seed        the random stream
/// @param[in] init        how weights and biases are drawn
/// @param[in] bias_std    standard deviation of the biases under RandomInit::kHe
/// @return a validated network whose source names the shape and seed
Network random_network(int input_dim, const std::vector<int>& widths, int output_dim, std::uint64_t seed,
                       RandomInit init = RandomInit::kTorchDefault, double bias_std = 1e-3);

}  // namespace relutope
