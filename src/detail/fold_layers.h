#pragma once
// The one place where a Network's affine layers (no activation, or one that does not split) are
// folded into the next split layer, so that the engines see only "affine, then breakpoint". One
// template over the numbers: doubles (FlatNetwork, Architecture::of) and GMP rationals
// (ExactNetwork, which reads a layer's numbers from the network's exact definition when it has
// one). Private to src/.
#include <Eigen/Core>
#include <utility>

#include "detail/flat_network.h"
#include "relutope/network.h"

namespace relutope::detail {

// The affine map (weight, bias) after the last split layer: the identity of `dim` values when
// nothing came after it (then weight and bias are empty: a caller that needs it builds it).
template <class Matrix, class Vector>
struct FoldedTail {
  bool is_identity = true;
  int dim = 0;
  Matrix weight;
  Vector bias;
};

// Walks net.layers in order and folds each run of affine layers into the split layer after it:
// for every split layer l, calls
//   on_split(UnitLayout layout, Matrix weight, Vector bias, bool folded)
// where layout = UnitLayout(net, l, entries before l), weight x + bias is layer l's pre-activation
// map of the previous split layer's outputs (of the input for the first), and folded says whether
// an affine layer came in between (if not, weight and bias are layer l's numbers as they are).
// `numbers` gives the scalar type and a layer's numbers:
//   Matrix, Vector                          its matrix (rows x columns) and vector types
//   Matrix weight(int l), Vector bias(int l)  layer l's numbers (copies or references)
//   void fold(int l, const Matrix& w, const Vector& b, Matrix& out_w, Vector& out_b)
//                                           layer l after the affine map (w, b):
//                                           out_w = W_l w, out_b = W_l b + b_l
// A layer that follows a split layer (or the input) is taken as it is, with no product by the
// identity: the common case (every layer of a plain MLP) then costs a copy, and in doubles a GEMM
// by the identity would run on OpenMP threads (see FlatNetwork's constructor).
// @return the affine map after the last split layer
template <class Numbers, class OnSplit>
FoldedTail<typename Numbers::Matrix, typename Numbers::Vector> fold_layers(const Network& net, const Numbers& numbers,
                                                                           OnSplit&& on_split) {
  using Matrix = typename Numbers::Matrix;
  using Vector = typename Numbers::Vector;
  FoldedTail<Matrix, Vector> pending;  // the affine layers since the last split layer
  pending.dim = net.input_dim();
  int num_entries = 0;
  for (int l = 0; l < static_cast<int>(net.layers.size()); ++l) {
    Matrix w;
    Vector b;
    if (pending.is_identity) {
      w = numbers.weight(l);
      b = numbers.bias(l);
    } else {
      numbers.fold(l, pending.weight, pending.bias, w, b);
    }
    const Layer& layer = net.layers[l];
    if (!layer.splits()) {  // its outputs are its rows, unscaled
      pending.weight = std::move(w);
      pending.bias = std::move(b);
      pending.is_identity = false;
      pending.dim = layer.num_out();
      continue;
    }
    UnitLayout layout(net, l, num_entries);
    num_entries += layout.num_entries();
    const int outputs = layout.num_outputs();
    on_split(std::move(layout), std::move(w), std::move(b), !pending.is_identity);
    pending = FoldedTail<Matrix, Vector>();
    pending.dim = outputs;
  }
  return pending;
}

// A network's layers in doubles, as they are stored.
struct DoubleLayers {
  using Matrix = Eigen::MatrixXd;
  using Vector = Eigen::VectorXd;
  const Network& net;

  const Matrix& weight(int l) const { return net.layers[l].weight; }
  const Vector& bias(int l) const { return net.layers[l].bias; }
  void fold(int l, const Matrix& w, const Vector& b, Matrix& out_w, Vector& out_b) const {
    const Layer& layer = net.layers[l];
    // Built as temporaries, as the constructor always did: Eigen may evaluate an assignment of
    // `W b + c` in another order than the construction, and the folds must not change by a bit.
    out_w = Eigen::MatrixXd(layer.weight * w);
    out_b = Eigen::VectorXd(layer.weight * b + layer.bias);
  }
};

}  // namespace relutope::detail
