#include "detail/flat_network.h"

#include "relutope/error.h"

namespace relutope::detail {

FlatNetwork::FlatNetwork(const Network& net) : input_dim(net.input_dim()) {
  // Affine layers without activation are folded into the next split layer, so that
  // the engines only ever see "affine, then breakpoint".
  Eigen::MatrixXd pending = Eigen::MatrixXd::Identity(input_dim, input_dim);
  Eigen::VectorXd pending_bias = Eigen::VectorXd::Zero(input_dim);
  for (std::size_t l = 0; l < net.layers.size(); ++l) {
    const Layer& layer = net.layers[l];
    if (layer.activation == Activation::kMax)
      throw InputError(net.source + ": layers[" + std::to_string(l) +
                       "]: Max units (MaxPool, elementwise Max) are not supported by the engines yet");
    Eigen::MatrixXd w = layer.weight * pending;
    Eigen::VectorXd b = layer.weight * pending_bias + layer.bias;
    if (!layer.splits()) {
      pending = std::move(w);
      pending_bias = std::move(b);
      continue;
    }
    SplitLayer split;
    split.weight = std::move(w);
    split.bias = std::move(b);
    split.slope.resize(layer.num_out());
    for (int i = 0; i < layer.num_out(); ++i) split.slope[i] = layer.slope_below(i);
    split.network_layer = static_cast<int>(l);
    split.offset = num_neurons;
    num_neurons += layer.num_out();
    layers.push_back(std::move(split));
    pending = Eigen::MatrixXd::Identity(layer.num_out(), layer.num_out());
    pending_bias = Eigen::VectorXd::Zero(layer.num_out());
  }
  out_weight = std::move(pending);
  out_bias = std::move(pending_bias);
}

void FlatNetwork::next_preactivation(int l, const std::uint8_t* pattern, const Eigen::MatrixXd& prev_weight,
                                     const Eigen::VectorXd& prev_bias, Eigen::MatrixXd& weight,
                                     Eigen::VectorXd& bias) const {
  const SplitLayer& layer = layers[l];
  if (l == 0) {
    weight = layer.weight;
    bias = layer.bias;
    return;
  }
  const SplitLayer& prev = layers[l - 1];
  Eigen::VectorXd scale(prev.weight.rows());
  for (Eigen::Index i = 0; i < scale.size(); ++i) scale[i] = pattern[prev.offset + i] ? 1.0 : prev.slope[i];
  // lazyProduct: prev_weight is thin (input_dim columns), where GEMM's packing costs more than it saves.
  const Eigen::MatrixXd scaled = scale.asDiagonal() * prev_weight;
  weight.noalias() = layer.weight.lazyProduct(scaled);
  bias.noalias() = layer.weight * scale.cwiseProduct(prev_bias);
  bias += layer.bias;
}

RegionMaps region_maps(const FlatNetwork& flat, const ActivationPattern& pattern) {
  RegionMaps maps;
  const int num_layers = static_cast<int>(flat.layers.size());
  maps.weight.resize(num_layers);
  maps.bias.resize(num_layers);
  for (int l = 0; l < num_layers; ++l)
    flat.next_preactivation(l, pattern.data(), l ? maps.weight[l - 1] : Eigen::MatrixXd(),
                            l ? maps.bias[l - 1] : Eigen::VectorXd(), maps.weight[l], maps.bias[l]);
  if (num_layers == 0) {
    maps.out_weight = flat.out_weight;
    maps.out_bias = flat.out_bias;
    return maps;
  }
  const SplitLayer& last = flat.layers.back();
  Eigen::VectorXd scale(last.weight.rows());
  for (Eigen::Index i = 0; i < scale.size(); ++i) scale[i] = pattern[last.offset + i] ? 1.0 : last.slope[i];
  maps.out_weight = flat.out_weight * (scale.asDiagonal() * maps.weight.back());
  maps.out_bias = flat.out_weight * scale.cwiseProduct(maps.bias.back()) + flat.out_bias;
  return maps;
}

Halfspace neuron_halfspace(const FlatNetwork& flat, const RegionMaps& maps, int global, bool active) {
  int l = 0;
  while (l + 1 < static_cast<int>(flat.layers.size()) && flat.layers[l + 1].offset <= global) ++l;
  const int i = global - flat.layers[l].offset;
  Halfspace h;
  // active: z >= 0  <=>  -w·x <= c;   inactive: z <= 0  <=>  w·x <= -c
  h.a = active ? Eigen::VectorXd(-maps.weight[l].row(i).transpose()) : Eigen::VectorXd(maps.weight[l].row(i).transpose());
  h.b = active ? maps.bias[l][i] : -maps.bias[l][i];
  h.origin.kind = HalfspaceOrigin::Kind::kNeuron;
  h.origin.layer = flat.layers[l].network_layer;
  h.origin.neuron = i;
  h.origin.active = active;
  return h;
}

}  // namespace relutope::detail
