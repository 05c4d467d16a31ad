#pragma once
#include <Eigen/Core>
#include <optional>
#include <string>
#include <vector>

#include "relutope/domain.h"

namespace relutope {

/// The nonlinearity after an affine layer. All supported activations are piecewise linear
/// with one breakpoint at 0: y = z for z >= 0 and y = slope * z for z < 0.
enum class Activation {
  kNone,       ///< affine output layer: no breakpoint, does not split regions
  kRelu,       ///< slope 0
  kLeakyRelu,  ///< one slope for the layer (negative_slope has size 1)
  kPRelu,      ///< one slope per neuron (negative_slope has size num_out, or 1 broadcast)
};

/// Human-readable name: "none", "relu", "leaky_relu", "prelu".
const char* activation_name(Activation activation);

/// One affine layer z = W x + b followed by an activation.
struct Layer {
  Eigen::MatrixXd weight;          ///< W, num_out x num_in
  Eigen::VectorXd bias;            ///< b, num_out
  Activation activation = Activation::kRelu;
  Eigen::VectorXd negative_slope;  ///< slope for z < 0: empty for relu/none, size 1 or num_out otherwise

  int num_in() const { return static_cast<int>(weight.cols()); }
  int num_out() const { return static_cast<int>(weight.rows()); }
  /// True when each neuron of the layer has a breakpoint, i.e. the layer splits regions.
  bool splits() const { return activation != Activation::kNone; }
  /// Slope on the negative side for neuron i (0 for relu).
  double slope_below(int i) const;
};

/// A feed-forward chain of layers, input first. Hidden layers carry piecewise-linear activations;
/// typically the last layer has Activation::kNone.
struct Network {
  std::vector<Layer> layers;
  std::string source;  ///< where it came from (file name), used in messages
  std::optional<Domain> default_domain;  ///< a domain stored with the model (JSON "domain"), if any

  int input_dim() const { return layers.empty() ? 0 : layers.front().num_in(); }
  int output_dim() const { return layers.empty() ? 0 : layers.back().num_out(); }
  /// Widths of the layers that split (those with an activation), in order.
  std::vector<int> hidden_widths() const;
  /// Number of neurons that split regions (sum of hidden_widths()).
  int num_neurons() const;

  /// Checks shapes between layers, finite weights/biases/slopes and slope vector sizes.
  /// @throws InputError listing every problem found, each located as "<source>: layers[i].field: ..."
  void validate() const;

  /// Forward pass of one input vector (size input_dim()).
  Eigen::VectorXd evaluate(const Eigen::VectorXd& x) const;
};

}  // namespace relutope
