#pragma once
// The network as the exact engine and the exact LP see it: the split layers with the affine layers
// before them folded in, in GMP rationals (a float32 or float64 weight is an exact rational).
// The rational counterpart of flat_network.h. Private to src/.
#include <gmpxx.h>

#include <Eigen/Core>
#include <vector>

#include "detail/flat_network.h"
#include "detail/leaf_sink.h"
#include "relutope/graph.h"
#include "relutope/network.h"
#include "relutope/region.h"

namespace relutope::detail {

struct ExactNetwork {
  using Rational = mpq_class;
  using Vector = std::vector<Rational>;
  using Matrix = std::vector<Vector>;  // rows

  struct Layer : UnitLayout {  // rows, outputs and entries as in FlatNetwork
    Matrix weight;  // num_rows x num_in (num_in = previous split layer's outputs, or input dim)
    Vector bias;
    Vector slope;   // ReLU family: slope below the breakpoint, per row (1 for linear rows and Max)
    int num_rows() const { return static_cast<int>(weight.size()); }
  };

  std::vector<Layer> layers;
  int input_dim = 0;
  int num_neurons = 0;

  explicit ExactNetwork(const Network& net);

  // The half-spaces a·x <= b (input coordinates) of the constraints `codes` (neuron sides and Max
  // piece facets, leaf_sink.h) on the region of `pattern`, whose entries before each code's entry
  // must be decided.
  void side_rows(const ActivationPattern& pattern, const std::vector<ConstraintCode>& codes, Matrix& a,
                 Vector& b) const;

  // The split layer of pattern entry `global`.
  int layer_of(int global) const;
  // Pre-activation maps of split layers 0..last on the region of `pattern` (entries of layers
  // before `last` decided): per layer, per row, [w_0 .. w_{d-1}, c].
  std::vector<Matrix> preactivations(const ActivationPattern& pattern, int last) const;

  // Row `row` of split layer `layer` on the region of `pattern` (entries of the layers before
  // decided), exactly, for a floating-point engine whose rounded row is zero there: its products
  // fell below the range of doubles, or cancelled in a rounded sum, so only the exact row says
  // whether the neuron is constant on the region or cuts it along a tiny but real hyperplane.
  struct RowOnRegion {
    // One sign on the whole region: the row is 0 (the pre-activation is its constant), or its
    // constant exceeds what the row can reach on a box of half-width <= 1 in u.
    bool decided = false;
    int sign = 0;            // when decided: of the pre-activation (0: identically 0, inactive)
    bool rational = false;   // false: the fast path (every input an inactive ReLU of slope 0, or
                             // no weights), with no rational products
    Eigen::VectorXd w;       // else: the row in u, scaled by a positive factor to largest |w_j| = 1,
    double c = 0;            // rounded, and its constant likewise (the sides do not change)
  };
  // u are the engine's coordinates, x = centre + scale ⊙ u. With `minus` >= 0, the row is row
  // `row` minus row `minus` (two rows of a Max unit).
  RowOnRegion row_on_region(const ActivationPattern& pattern, int layer, int row, const Eigen::VectorXd& centre,
                            const Eigen::VectorXd& scale, int minus = -1) const;
};

// An affine map x = origin + linear u in rationals.
struct RationalMap {
  ExactNetwork::Vector origin;  // d
  ExactNetwork::Matrix linear;  // d rows of k
};

// One layer's numbers, exactly: rows of weights and the biases.
struct ExactLayerValues {
  ExactNetwork::Matrix weight;
  ExactNetwork::Vector bias;
};

// lower_to_network's layers in rationals (src/graph/lower.cpp), the graph's input being `input`
// (a slice: its k inputs become the first layer's) or, when null, the identity.
// @throws UncertifiedError if the graph is too large to fold in rationals
std::vector<ExactLayerValues> lower_exactly(const Graph& graph, const RationalMap* input);

// The anchors of `map` in u exactly: k + 1 columns of k (its coords, or its facets' vertices).
// @throws Error if they are not affinely independent or the facets do not meet in points
std::vector<ExactNetwork::Vector> exact_anchors(const ExactAffineMap& map);

// `map` in rationals: with anchors u_j, linear = [x_j - x_0] [u_j - u_0]^-1 and origin = x_0 - linear u_0.
RationalMap rational_map(const ExactAffineMap& map);

}  // namespace relutope::detail
