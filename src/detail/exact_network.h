#pragma once
// The network as the exact engine and the exact LP see it: the split layers with the affine layers
// before them folded in, in GMP rationals (a float32 or float64 weight is an exact rational).
// The rational counterpart of flat_network.h. Private to src/.
#include <gmpxx.h>

#include <vector>

#include "detail/leaf_sink.h"
#include "relutope/network.h"
#include "relutope/region.h"

namespace relutope::detail {

struct ExactNetwork {
  using Rational = mpq_class;
  using Vector = std::vector<Rational>;
  using Matrix = std::vector<Vector>;  // rows

  struct Layer {
    Matrix weight;  // num_out x num_in (num_in = previous split layer's width, or input dim)
    Vector bias;
    Vector slope;   // slope below the breakpoint, per neuron
    int offset = 0; // index of the layer's first neuron in an ActivationPattern
  };

  std::vector<Layer> layers;
  int input_dim = 0;
  int num_neurons = 0;

  explicit ExactNetwork(const Network& net);

  // The half-spaces a·x <= b (input coordinates) of the neuron sides `codes` (neuron_code) on the
  // region of `pattern`, whose entries before each code's neuron must be decided.
  void side_rows(const ActivationPattern& pattern, const std::vector<ConstraintCode>& codes, Matrix& a,
                 Vector& b) const;
};

}  // namespace relutope::detail
