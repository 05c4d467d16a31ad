// The folding of a network's affine layers into the next split layer (src/detail/fold_layers.h),
// one walk for doubles (FlatNetwork, Architecture::of) and rationals (ExactNetwork): the two agree,
// and a network with affine layers between its split layers has the regions, ranks and maps of the
// same network folded by hand.
#include "detail/fold_layers.h"

#include <gmpxx.h>
#include <gtest/gtest.h>

#include <random>

#include "detail/exact_network.h"
#include "detail/flat_network.h"
#include "relutope/bounds.h"
#include "relutope/enumerate.h"
#include "relutope/network.h"

namespace relutope {
namespace {

// Entries k / 8 with |k| <= 12 (dyadic: every product and sum the folds make is exact in doubles),
// or N(0, 1) doubles (products round).
Layer random_layer(int rows, int cols, Activation activation, std::mt19937_64& rng, bool dyadic) {
  std::uniform_int_distribution<int> small(-12, 12);
  std::normal_distribution<double> normal;
  auto draw = [&] { return dyadic ? small(rng) / 8.0 : normal(rng); };
  Layer layer;
  layer.weight.resize(rows, cols);
  layer.bias.resize(rows);
  for (int i = 0; i < rows; ++i) {
    for (int k = 0; k < cols; ++k) layer.weight(i, k) = draw();
    layer.bias[i] = draw() / 2;
  }
  layer.activation = activation;
  return layer;
}

// 2 inputs; affine layers before the first split layer, between a ReLU-family layer and a Max
// layer, and after the last split layer; a Max layer right after a split layer (its rows are stored
// as they are) and one after affine layers (folded).
Network mixed_network(std::uint64_t seed, bool dyadic) {
  std::mt19937_64 rng(seed);
  Network net;
  net.layers.push_back(random_layer(3, 2, Activation::kNone, rng, dyadic));       // 0 affine
  net.layers.push_back(random_layer(4, 3, Activation::kLeakyRelu, rng, dyadic));  // 1 split
  net.layers.back().negative_slope = Eigen::VectorXd::Constant(1, 0.25);
  net.layers.push_back(random_layer(6, 4, Activation::kMax, rng, dyadic));        // 2 split, unfolded Max
  net.layers.back().unit_rows = {2, 3, 1};
  net.layers.push_back(random_layer(4, 3, Activation::kNone, rng, dyadic));       // 3 affine
  net.layers.push_back(random_layer(5, 4, Activation::kNone, rng, dyadic));       // 4 affine
  net.layers.push_back(random_layer(6, 5, Activation::kMax, rng, dyadic));        // 5 split, folded Max
  net.layers.back().unit_rows = {2, 2, 2};
  net.layers.push_back(random_layer(3, 3, Activation::kRelu, rng, dyadic));       // 6 split
  net.layers.push_back(random_layer(2, 3, Activation::kNone, rng, dyadic));       // 7 affine
  net.layers.push_back(random_layer(1, 2, Activation::kNone, rng, dyadic));       // 8 affine
  net.validate();
  return net;
}

// `net` with its affine layers multiplied into the next layer by hand: the reference.
Network folded_by_hand(const Network& net) {
  Network out;
  std::optional<Layer> pending;
  for (const Layer& layer : net.layers) {
    Layer next = layer;
    if (pending) {
      next.weight = layer.weight * pending->weight;
      next.bias = layer.weight * pending->bias + layer.bias;
      pending.reset();
    }
    if (layer.splits()) {
      out.layers.push_back(next);
    } else {
      pending = next;
    }
  }
  if (pending) out.layers.push_back(*pending);
  return out;
}

std::uint64_t count(const Network& net, Engine engine) {
  EnumerateOptions options;
  options.engine = engine;
  options.num_threads = 1;
  const EnumerateStats stats = count_regions(net, Domain::cube(2, -1, 1), options);
  EXPECT_TRUE(stats.complete);
  return stats.num_regions;
}

TEST(FoldLayers, DoublesAndRationalsGiveTheSameLayers) {
  for (const bool dyadic : {true, false}) {
    SCOPED_TRACE(dyadic ? "dyadic weights" : "normal weights");
    const Network net = mixed_network(7, dyadic);
    const detail::FlatNetwork flat(net);
    const detail::ExactNetwork exact(net);
    ASSERT_EQ(flat.layers.size(), 4u);
    ASSERT_EQ(exact.layers.size(), 4u);
    EXPECT_EQ(flat.num_neurons, net.num_neurons());
    EXPECT_EQ(exact.num_neurons, net.num_neurons());
    const int network_layer[] = {1, 2, 5, 6};
    for (std::size_t l = 0; l < 4; ++l) {
      SCOPED_TRACE("split layer " + std::to_string(l));
      const detail::SplitLayer& f = flat.layers[l];
      const detail::ExactNetwork::Layer& e = exact.layers[l];
      EXPECT_EQ(f.network_layer, network_layer[l]);
      EXPECT_EQ(e.network_layer, network_layer[l]);
      EXPECT_EQ(f.offset, e.offset);
      EXPECT_EQ(f.out_row, e.out_row);
      EXPECT_EQ(f.out_entry, e.out_entry);
      ASSERT_EQ(f.num_rows(), e.num_rows());
      // Layer 2 follows a split layer: stored rows for the tie proofs; layer 5 is folded: none.
      EXPECT_EQ(f.stored_rows.empty(), l != 1);
      const bool folded = l == 0 || l == 2;
      for (int i = 0; i < f.num_rows(); ++i) {
        ASSERT_EQ(static_cast<int>(e.weight[i].size()), f.weight.cols());
        for (int k = 0; k < f.weight.cols(); ++k) {
          // Unfolded layers and dyadic folds are exact in doubles; other folds are roundings.
          if (dyadic || !folded)
            EXPECT_EQ(mpq_class(f.weight(i, k)), e.weight[i][k]) << i << "," << k;
          else
            EXPECT_NEAR(f.weight(i, k), e.weight[i][k].get_d(), 1e-12 * (1 + std::abs(f.weight(i, k))));
        }
        if (dyadic || !folded)
          EXPECT_EQ(mpq_class(f.bias[i]), e.bias[i]);
        else
          EXPECT_NEAR(f.bias[i], e.bias[i].get_d(), 1e-12 * (1 + std::abs(f.bias[i])));
        EXPECT_EQ(mpq_class(f.slope[i]), e.slope[i]);
      }
    }
  }
}

TEST(FoldLayers, FoldsAreThoseOfTheNetworkFoldedByHand) {
  const Network net = mixed_network(11, true);
  const Network hand = folded_by_hand(net);
  ASSERT_EQ(hand.layers.size(), 5u);
  const detail::FlatNetwork flat(net);
  const detail::FlatNetwork reference(hand);
  for (std::size_t l = 0; l < flat.layers.size(); ++l) {
    EXPECT_EQ(flat.layers[l].weight, reference.layers[l].weight) << l;
    EXPECT_EQ(flat.layers[l].bias, reference.layers[l].bias) << l;
  }
  // The affine layers after the last split layer are its output map, folded too.
  EXPECT_EQ(flat.out_weight, hand.layers.back().weight);
  EXPECT_EQ(flat.out_bias, hand.layers.back().bias);
  // Without affine layers after it, the last split layer's output map is the identity.
  Network ends_split = net;
  ends_split.layers.resize(7);
  const detail::FlatNetwork open(ends_split);
  EXPECT_EQ(open.out_weight, Eigen::MatrixXd::Identity(3, 3));
  EXPECT_EQ(open.out_bias, Eigen::VectorXd::Zero(3));

  const Architecture a = Architecture::of(net), b = Architecture::of(hand);
  EXPECT_EQ(a.widths, b.widths);
  EXPECT_EQ(a.ranks, b.ranks);
  EXPECT_EQ(a.hyperplanes, b.hyperplanes);
  EXPECT_EQ(a.unit_states, b.unit_states);
}

TEST(FoldLayers, RegionMapsAreTheForwardPass) {
  const Network net = mixed_network(5, false);
  const detail::FlatNetwork flat(net);
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> uniform(-1, 1);
  for (int s = 0; s < 50; ++s) {
    const Eigen::Vector2d x(uniform(rng), uniform(rng));
    ActivationPattern pattern;
    const Eigen::VectorXd y = net.evaluate(x, &pattern);
    const detail::RegionMaps maps = detail::region_maps(flat, pattern);
    EXPECT_NEAR((maps.out_weight * x + maps.out_bias)[0], y[0], 1e-9 * (1 + std::abs(y[0])));
  }
}

// The count does not depend on whether the affine layers are folded by relutope or by hand, in any
// engine; 25 is the count of this network before the three foldings became one (fold_layers.h).
TEST(FoldLayers, CountsAreThoseOfTheNetworkFoldedByHand) {
  const Network net = mixed_network(11, true);
  const Network hand = folded_by_hand(net);
  for (const Engine engine : {Engine::kVertex, Engine::kLp, Engine::kExact}) {
    SCOPED_TRACE(static_cast<int>(engine));
    EXPECT_EQ(count(net, engine), count(hand, engine));
    EXPECT_EQ(count(net, engine), 25u);
  }
}

}  // namespace
}  // namespace relutope
