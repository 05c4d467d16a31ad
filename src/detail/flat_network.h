#pragma once
// The network as the engines see it: only the layers that split, each with the affine layers
// before it composed in, plus the affine map after the last split. Private to src/.
#include <Eigen/Core>
#include <vector>

#include "relutope/network.h"
#include "relutope/region.h"

namespace relutope::detail {

struct SplitLayer {
  Eigen::MatrixXd weight;  // num_out x num_in (num_in = previous split layer's width, or input dim)
  Eigen::VectorXd bias;
  Eigen::VectorXd slope;   // slope below the breakpoint, per neuron
  int network_layer = 0;   // index into Network::layers, for HalfspaceOrigin
  int offset = 0;          // index of this layer's first neuron in an ActivationPattern
};

struct FlatNetwork {
  int input_dim = 0;
  int num_neurons = 0;
  std::vector<SplitLayer> layers;
  Eigen::MatrixXd out_weight;  // output map after the last split layer
  Eigen::VectorXd out_bias;

  explicit FlatNetwork(const Network& net);

  // Pre-activation map of split layer l on the region with `pattern` (only layers < l are read):
  // z = map_weight * x + map_bias, given the post-activation map (A, a) of layer l-1.
  void next_preactivation(int l, const std::uint8_t* pattern, const Eigen::MatrixXd& prev_weight,
                          const Eigen::VectorXd& prev_bias, Eigen::MatrixXd& weight, Eigen::VectorXd& bias) const;
};

// Every split layer's pre-activation map and the output map on the region of `pattern`.
struct RegionMaps {
  std::vector<Eigen::MatrixXd> weight;  // per split layer: num_out x input_dim
  std::vector<Eigen::VectorXd> bias;
  Eigen::MatrixXd out_weight;  // output_dim x input_dim
  Eigen::VectorXd out_bias;
};
RegionMaps region_maps(const FlatNetwork& flat, const ActivationPattern& pattern);

// The half-space of neuron `global` (index into the pattern) on the side given by `active`, in the
// region whose maps are `maps`.
Halfspace neuron_halfspace(const FlatNetwork& flat, const RegionMaps& maps, int global, bool active);

}  // namespace relutope::detail
