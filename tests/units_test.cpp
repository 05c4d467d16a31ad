// The engines on the units of graph models: linear rows (skip connections), clip units and Max units.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <set>
#include <string>

#include "relutope/enumerate.h"
#include "relutope/error.h"
#include "relutope/network.h"
#include "relutope/bounds.h"
#include "relutope/neurons.h"
#include "relutope/io.h"
#include "support/brute_force.h"
#include "support/data_path.h"
#include "support/exact_reference.h"

namespace {

using relutope::Activation;
using relutope::Domain;
using relutope::Engine;
using relutope::EnumerateOptions;
using relutope::Layer;
using relutope::Network;
using relutope::ActivationPattern;

constexpr Engine kEngines[] = {Engine::kVertex, Engine::kLp, Engine::kExact};

Layer layer(const Eigen::MatrixXd& w, const Eigen::VectorXd& b, Activation activation) {
  Layer l;
  l.weight = w;
  l.bias = b;
  l.activation = activation;
  return l;
}

Eigen::MatrixXd random_matrix(int rows, int cols, std::mt19937_64& rng) {
  std::normal_distribution<double> n(0.0, 1.0);
  return Eigen::MatrixXd::NullaryExpr(rows, cols, [&](Eigen::Index, Eigen::Index) { return n(rng); });
}

std::uint64_t count(const Network& net, const Domain& domain, Engine engine, int threads = 1) {
  EnumerateOptions options;
  options.engine = engine;
  options.num_threads = threads;
  options.serial_start_seconds = 0;  // the threads share the work from the start: the parallel path
  return relutope::count_regions(net, domain, options).num_regions;
}

// A residual block written as layers: y = x + V relu(W x + b), then relu(U y + c) and an output.
// The first layer carries x on `carry` rows; `linear` says how: as linear rows (PReLU slope 1) or
// as ReLU rows shifted to stay active on the box [-1, 1]^2 (relu(x + 10) - 10: the equivalent
// network without carried rows, whose extra neurons never switch).
Network residual_block(bool linear, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int d = 2, h = 4, g = 3;
  const Eigen::MatrixXd w = random_matrix(h, d, rng), v = random_matrix(d, h, rng), u = random_matrix(g, d, rng);
  const Eigen::VectorXd b = 0.5 * random_matrix(h, 1, rng), c = 0.5 * random_matrix(g, 1, rng);
  const double shift = linear ? 0.0 : 10.0;
  Eigen::MatrixXd w1(d + h, d);
  w1 << Eigen::MatrixXd::Identity(d, d), w;
  Eigen::VectorXd b1(d + h);
  b1 << Eigen::VectorXd::Constant(d, shift), b;
  Layer first = layer(w1, b1, Activation::kPRelu);
  first.negative_slope = Eigen::VectorXd::Zero(d + h);
  if (linear) first.negative_slope.head(d).setOnes();
  // y = (carried - shift) + V relu(...), folded into the next layer: relu(U y + c)
  Eigen::MatrixXd w2(g, d + h);
  w2 << u, u * v;
  const Eigen::VectorXd b2 = c - u * Eigen::VectorXd::Constant(d, shift);
  Network net;
  net.layers = {first, layer(w2, b2, Activation::kRelu),
                layer(Eigen::MatrixXd::Ones(1, g), Eigen::VectorXd::Zero(1), Activation::kNone)};
  return net;
}

TEST(LinearRows, AreNotNeuronsAndHaveNoPatternEntry) {
  const Network net = residual_block(true, 1);
  EXPECT_EQ(net.hidden_widths(), (std::vector<int>{4, 3}));
  EXPECT_EQ(net.num_neurons(), 7);
  EXPECT_EQ(residual_block(false, 1).num_neurons(), 9);
  for (const relutope::Region& r : relutope::enumerate_regions(net, Domain::cube(2, -1, 1)))
    EXPECT_EQ(r.pattern.size(), 7u);
}

// Before linear rows were recognised, their breakpoint z = 0 split the box (the rows x_1 = 0 and
// x_2 = 0 cross it), and every engine counted more regions than the equivalent network has.
TEST(LinearRows, ResidualBlockCountsAsTheEquivalentNetworkInEveryEngine) {
  const Domain box = Domain::cube(2, -1, 1);
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const Network carried = residual_block(true, seed), equivalent = residual_block(false, seed);
    const std::uint64_t expected = count(equivalent, box, Engine::kExact);
    std::set<std::string> sampled;
    for (const std::string& p : brute_force::sampled_patterns(carried, box, 5000, static_cast<unsigned>(seed)))
      sampled.insert(p);
    ASSERT_GE(expected, sampled.size());
    for (Engine engine : kEngines) {
      EXPECT_EQ(count(carried, box, engine), expected) << "seed " << seed << ", engine " << relutope::engine_name(engine);
      EXPECT_EQ(count(carried, box, engine, 2), expected) << "seed " << seed << ", 2 threads";
    }
  }
}

TEST(LinearRows, AClipUnitWithALinearRowIsRefused) {
  Network net;
  Layer clip = layer(Eigen::MatrixXd::Ones(2, 1), Eigen::VectorXd::Zero(2), Activation::kPRelu);
  clip.negative_slope = Eigen::Vector2d(0.0, 1.0);
  clip.unit_rows = {2};
  net.layers = {clip, layer(Eigen::MatrixXd::Ones(1, 2), Eigen::VectorXd::Zero(1), Activation::kNone)};
  EXPECT_THAT([&] { net.validate(); }, testing::ThrowsMessage<relutope::InputError>(
                                           testing::HasSubstr("layers[0].unit_rows[0]: a clip unit's rows must not be linear")));
}

// ---------------------------------------------------------------------------------------------
// k-state units against the exact polygon-clipping reference (tests/support/exact_reference.h)

std::vector<std::string> patterns(const Network& net, const Domain& domain, Engine engine, int threads) {
  EnumerateOptions options;
  options.engine = engine;
  options.num_threads = threads;
  options.serial_start_seconds = 0;  // the threads share the work from the start: the parallel path
  options.with_geometry = false;
  std::vector<std::string> out;
  relutope::enumerate_regions(net, domain, options, [&](const relutope::Region& r) {
    std::string p;
    for (auto state : r.pattern) p += static_cast<char>('0' + state);
    out.push_back(p);
  });
  return out;
}

// A seeded random 2-D network mixing what graph models lower to: ReLU and leaky rows, linear rows,
// clip units (two ReLU rows z - lo, z - hi), Max units of 1 to 4 rows, Max units over ReLU outputs
// (exactly 0 together on whole cells: ties), and Max units with a duplicated row.
Network random_graph_net(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> pick(0, 3), size(1, 4);
  Network net;
  int width = 2;
  const int num_layers = 2 + static_cast<int>(seed % 2);
  for (int l = 0; l < num_layers; ++l) {
    const int kind = l == 0 ? 0 : pick(rng) % 3;
    Layer layer;
    if (kind == 0) {  // leaky / linear / ReLU rows, some in clip units
      const int units = 3 + pick(rng) % 2;
      std::vector<Eigen::RowVectorXd> rows;
      std::vector<double> biases, slopes;
      for (int u = 0; u < units; ++u) {
        const Eigen::RowVectorXd w = random_matrix(1, width, rng);
        const double b = 0.3 * random_matrix(1, 1, rng)(0, 0);
        if (pick(rng) == 0) {  // a clip unit: clip(z, -0.5, 0.5)
          rows.push_back(w), biases.push_back(b + 0.5), slopes.push_back(0.0);
          rows.push_back(w), biases.push_back(b - 0.5), slopes.push_back(0.0);
          layer.unit_rows.push_back(2);
        } else {
          rows.push_back(w), biases.push_back(b);
          slopes.push_back(pick(rng) == 0 ? 1.0 : pick(rng) == 1 ? 0.25 : 0.0);
          layer.unit_rows.push_back(1);
        }
      }
      layer.weight.resize(static_cast<Eigen::Index>(rows.size()), width);
      layer.bias.resize(static_cast<Eigen::Index>(rows.size()));
      layer.negative_slope.resize(static_cast<Eigen::Index>(rows.size()));
      for (std::size_t i = 0; i < rows.size(); ++i) {
        layer.weight.row(static_cast<Eigen::Index>(i)) = rows[i];
        layer.bias[static_cast<Eigen::Index>(i)] = biases[i];
        layer.negative_slope[static_cast<Eigen::Index>(i)] = slopes[i];
      }
      layer.activation = Activation::kPRelu;
      width = layer.num_rows();
    } else if (kind == 1 && l > 0 && width >= 2) {  // Max over the previous layer's outputs (ties where they are 0)
      // Sometimes through an affine identity layer: folded in, the engines can no longer read the
      // ties off the stored rows and must decide them in rational arithmetic.
      if (pick(rng) < 2) {
        Layer identity;
        identity.weight = Eigen::MatrixXd::Identity(width, width);
        identity.bias = Eigen::VectorXd::Zero(width);
        identity.activation = Activation::kNone;
        net.layers.push_back(identity);
      }
      const int units = 1 + pick(rng) % 2;
      std::vector<int> picks;
      for (int u = 0; u < units; ++u) {
        const int k = std::min(width, 2 + pick(rng) % 3);
        layer.unit_rows.push_back(k);
        for (int r = 0; r < k; ++r) picks.push_back((u + r) % width);
      }
      layer.weight = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(picks.size()), width);
      for (std::size_t r = 0; r < picks.size(); ++r) layer.weight(static_cast<Eigen::Index>(r), picks[r]) = 1.0;
      layer.bias = Eigen::VectorXd::Zero(layer.num_rows());
      layer.activation = Activation::kMax;
      width = units;
    } else {  // Max units of random rows, one with a duplicated row
      const int units = 1 + pick(rng) % 3;
      int rows = 0;
      for (int u = 0; u < units; ++u) rows += layer.unit_rows.emplace_back(size(rng));
      layer.weight = random_matrix(rows, width, rng);
      layer.bias = 0.3 * random_matrix(rows, 1, rng);
      if (layer.unit_rows[0] >= 2) {
        layer.weight.row(1) = layer.weight.row(0);
        layer.bias[1] = layer.bias[0];
      }
      layer.activation = Activation::kMax;
      width = units;
    }
    net.layers.push_back(std::move(layer));
  }
  net.layers.push_back(layer(random_matrix(1, width, rng), Eigen::VectorXd::Zero(1), Activation::kNone));
  net.validate();
  return net;
}

class GraphUnits : public testing::TestWithParam<std::uint64_t> {};

TEST_P(GraphUnits, EveryEngineFindsTheReferenceRegionsForAnyThreadCount) {
  const Network net = random_graph_net(GetParam());
  const Domain box = Domain::cube(2, -1, 1);
  const std::set<std::string> truth = reference::patterns(net, {-1, -1}, {1, 1});
  for (Engine engine : kEngines) {
    const std::vector<std::string> one = patterns(net, box, engine, 1);
    EXPECT_EQ(std::set<std::string>(one.begin(), one.end()), truth) << relutope::engine_name(engine);
    EXPECT_EQ(one.size(), truth.size()) << relutope::engine_name(engine) << ": a region found twice";
    EXPECT_EQ(patterns(net, box, engine, 3), one) << relutope::engine_name(engine) << ": depends on the threads";
  }
  for (const std::string& p : brute_force::sampled_patterns(net, box, 4000, static_cast<unsigned>(GetParam())))
    EXPECT_TRUE(truth.count(p)) << "sampled pattern " << p << " is not a region";
}

TEST_P(GraphUnits, RegionsTileTheBox) {
  const Network net = random_graph_net(GetParam());
  EnumerateOptions options;
  options.engine = Engine::kVertex;
  options.with_volume = true;
  double total = 0;
  for (const relutope::Region& r : relutope::enumerate_regions(net, Domain::cube(2, -1, 1), options)) {
    ASSERT_TRUE(r.volume);
    EXPECT_GT(*r.volume, 0);
    total += *r.volume;
    ActivationPattern at;
    const Eigen::VectorXd y = net.evaluate(r.interior_point, &at);
    EXPECT_EQ(at, r.pattern) << "interior point outside its region";
    EXPECT_NEAR((r.map_weight * r.interior_point + r.map_bias - y).norm(), 0.0, 1e-9) << "affine map";
  }
  EXPECT_NEAR(total, 4.0, 1e-9);
}

// ---------------------------------------------------------------------------------------------
// The JSON model format: "activation": "max" and "unit_rows"

std::string write_model(const std::string& name, const std::string& text) {
  const std::string path = temp_path(name);
  std::ofstream(path) << text;
  return path;
}

TEST(JsonMaxUnits, LoadAndCount) {
  const std::string path = write_model("max_units.json", R"({"layers": [
    {"weight": [[1, 0], [0, 1]], "bias": [0, 0], "activation": "relu"},
    {"weight": [[1, 0], [0, 1], [1, 1]], "bias": [0, 0, 0], "activation": "max", "unit_rows": [2, 1]},
    {"weight": [[1, 1]], "bias": [0], "activation": "none"}]})");
  const Network net = relutope::load_network(path);
  EXPECT_EQ(net.layers[1].activation, Activation::kMax);
  EXPECT_EQ(net.layers[1].unit_rows, (std::vector<int>{2, 1}));
  EXPECT_EQ(net.hidden_widths(), (std::vector<int>{2, 1}));
  EXPECT_EQ(count(net, Domain::cube(2, -1, 1), Engine::kExact), 5u);  // as TiedZeroReluOutputsDoNotSplit
}

TEST(JsonMaxUnits, BadUnitRowsAreNamed) {
  const std::string head = R"({"layers": [{"weight": [[1, 0], [0, 1], [1, 1]], "bias": [0, 0, 0], "activation": )";
  const std::string tail = R"(}, {"weight": [[1, 1]], "bias": [0], "activation": "none"}]})";
  const std::pair<std::string, std::string> cases[] = {
      {R"("max", "unit_rows": [2, 0])", "layers[0].unit_rows[1]: expected a whole number of rows from 1 to 255, got 0"},
      {R"("max", "unit_rows": [1.5, 2])", "layers[0].unit_rows[0]: expected a whole number of rows"},
      {R"("max", "unit_rows": 3)", "layers[0].unit_rows: expected a non-empty array of row counts, got 3"},
      {R"("max", "unit_rows": [2, 2])", "layers[0].unit_rows: the units cover 4 rows, the layer has 3"},
      {R"("max", "negative_slope": 0.1, "unit_rows": [3])", "layers[0].negative_slope: only leaky_relu and prelu"},
      {R"("relu", "unit_rows": [3])", "layers[0].unit_rows: expected sizes from 1 to 2 rows per unit"},
      {R"("max", "unit_row": [3])", R"(unknown key "unit_row" (did you mean "unit_rows"?))"},
  };
  for (const auto& [activation, message] : cases) {
    const std::string path = write_model("bad_unit_rows.json", head + activation + tail);
    EXPECT_THAT([&] { relutope::load_network(path); },
                testing::ThrowsMessage<relutope::InputError>(testing::HasSubstr(message)))
        << activation;
  }
}

// ---------------------------------------------------------------------------------------------
// Hand-checked counts and equivalences that must hold exactly

Network with_output(std::vector<Layer> layers) {
  const int width = layers.back().num_out();
  layers.push_back(layer(Eigen::MatrixXd::Ones(1, width), Eigen::VectorXd::Zero(1), Activation::kNone));
  Network net;
  net.layers = std::move(layers);
  net.validate();
  return net;
}

Layer max_layer(const Eigen::MatrixXd& w, const Eigen::VectorXd& b, std::vector<int> unit_rows) {
  Layer l = layer(w, b, Activation::kMax);
  l.unit_rows = std::move(unit_rows);
  return l;
}

void expect_count_in_every_engine(const Network& net, const Domain& domain, std::uint64_t expected) {
  for (Engine engine : kEngines)
    EXPECT_EQ(count(net, domain, engine), expected) << relutope::engine_name(engine);
}

// max(relu(x), relu(y)) on [-1, 1]^2: where x, y > 0 it splits along x = y (2 regions); where one is
// positive it is that one (1 each); where both are negative both rows are exactly 0, a tie: one
// region with state 0, not one per tied row. 5 regions.
TEST(MaxUnits, TiedZeroReluOutputsDoNotSplit) {
  const Network net = with_output({layer(Eigen::Matrix2d::Identity(), Eigen::Vector2d::Zero(), Activation::kRelu),
                                   max_layer(Eigen::Matrix2d::Identity(), Eigen::Vector2d::Zero(), {2})});
  const Domain box = Domain::cube(2, -1, 1);
  expect_count_in_every_engine(net, box, 5);
  std::set<std::string> seen;
  for (const relutope::Region& r : relutope::enumerate_regions(net, box))
    seen.insert(relutope::pattern_string(r.pattern, net));
  EXPECT_EQ(seen, (std::set<std::string>{"00|0", "01|1", "10|0", "11|0", "11|1"}));
}

// max(x, x, y): the duplicated row never splits; its second copy is never the state. 2 regions.
TEST(MaxUnits, DuplicatedInputsDoNotSplit) {
  Eigen::MatrixXd w(3, 2);
  w << 1, 0, 1, 0, 0, 1;
  const Network net = with_output({max_layer(w, Eigen::Vector3d::Zero(), {3})});
  expect_count_in_every_engine(net, Domain::cube(2, -1, 1), 2);
  for (const relutope::Region& r : relutope::enumerate_regions(net, Domain::cube(2, -1, 1)))
    EXPECT_NE(r.pattern[0], 1) << "the second copy of x is never the state";
}

// max(x, y), then relu(m_0 + x + y) where m = (max, x, y) is carried on: both cuts pass exactly
// through corners of the box ((1, 1) and (-1, -1); (1, -1) and (-1, 1)), which floating point
// cannot decide, so the vertex engine hands the subtree, Max state included, to exact arithmetic.
// 2 pieces of the Max unit, each cut in two by x + y = 0 (m_0 enters with weight 0): 4 regions.
TEST(MaxUnits, CutsThroughVerticesBelowAMaxUnitAreDecidedExactly) {
  Eigen::MatrixXd w(4, 2);
  w << 1, 0, 0, 1, 1, 0, 0, 1;
  const Layer max = max_layer(w, Eigen::Vector4d::Zero(), {2, 1, 1});
  Eigen::MatrixXd w2(1, 3);
  w2 << 0, 1, 1;
  const Network net = with_output({max, layer(w2, Eigen::VectorXd::Zero(1), Activation::kRelu)});
  expect_count_in_every_engine(net, Domain::cube(2, -1, 1), 4);
  EnumerateOptions options;
  options.engine = Engine::kVertex;
  EXPECT_GT(relutope::count_regions(net, Domain::cube(2, -1, 1), options).num_exact_decisions, 0u);
}

// max(a, b) = relu(a - b) + b: a 2-state Max unit has the regions of one ReLU row plus a carried row.
TEST(MaxUnits, MaxOfTwoRowsCountsAsReluOfTheDifference) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    std::mt19937_64 rng(seed);
    const Eigen::MatrixXd w = random_matrix(4, 2, rng), v = random_matrix(2, 4, rng);
    const Eigen::VectorXd b = 0.3 * random_matrix(4, 1, rng), c = 0.3 * random_matrix(2, 1, rng);
    const Layer first = layer(w, b, Activation::kRelu);
    const Network as_max = with_output({first, max_layer(v, c, {2})});
    Eigen::MatrixXd w2(2, 4);
    w2 << v.row(0) - v.row(1), v.row(1);  // relu(a - b), and b carried on a linear row
    Layer second = layer(w2, Eigen::Vector2d(c[0] - c[1], c[1]), Activation::kPRelu);
    second.negative_slope = Eigen::Vector2d(0.0, 1.0);
    const Network as_relu = with_output({first, second});
    const Domain box = Domain::cube(2, -1, 1);
    const std::uint64_t expected = reference::patterns(as_relu, {-1, -1}, {1, 1}).size();
    expect_count_in_every_engine(as_max, box, expected);
    expect_count_in_every_engine(as_relu, box, expected);
  }
}

// Hardtanh(z) = clip(z, -1, 1) three ways: a clip unit (two ReLU rows, z + 1 and z - 1), the same
// rows as two plain ReLU neurons, and two Max units max(-1, -max(-z, -1)). Same regions.
TEST(ClipUnits, AThreeStateClipUnitCountsAsItsTwoReluFormAndItsMaxForm) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    std::mt19937_64 rng(seed);
    const Eigen::MatrixXd w = random_matrix(3, 2, rng);
    const Eigen::VectorXd b = 0.5 * random_matrix(3, 1, rng);
    Eigen::MatrixXd pair(6, 2);
    Eigen::VectorXd pair_bias(6);
    for (int i = 0; i < 3; ++i) {
      pair.row(2 * i) = pair.row(2 * i + 1) = w.row(i);
      pair_bias[2 * i] = b[i] + 1;
      pair_bias[2 * i + 1] = b[i] - 1;
    }
    Layer clip = layer(pair, pair_bias, Activation::kRelu);
    clip.unit_rows = {2, 2, 2};
    Layer plain = clip;
    plain.unit_rows.clear();
    // max form: m_i = max(-z_i, -1) (rows -z_i and the constant -1), then h_i = max(-1, -m_i)
    Eigen::MatrixXd w1 = Eigen::MatrixXd::Zero(6, 2), w2 = Eigen::MatrixXd::Zero(6, 3);
    Eigen::VectorXd b1(6), b2(6);
    for (int i = 0; i < 3; ++i) {
      w1.row(2 * i) = -w.row(i);
      b1[2 * i] = -b[i];
      b1[2 * i + 1] = -1;
      w2(2 * i + 1, i) = -1;
      b2[2 * i] = -1;
      b2[2 * i + 1] = 0;
    }
    Layer mix_max = layer(random_matrix(2, 3, rng), Eigen::Vector2d::Zero(), Activation::kRelu);
    // The clip unit's output lo + relu(z - lo) - relu(z - hi) is what mix_max reads in the max form:
    Eigen::MatrixXd mix_clip(2, 6);
    for (int i = 0; i < 3; ++i) {
      mix_clip.col(2 * i) = mix_max.weight.col(i);
      mix_clip.col(2 * i + 1) = -mix_max.weight.col(i);
    }
    const Eigen::VectorXd mix_bias = -mix_max.weight.rowwise().sum();
    const Network clipped = with_output({clip, layer(mix_clip, mix_bias, Activation::kRelu)});
    const Network two_relu = with_output({plain, layer(mix_clip, mix_bias, Activation::kRelu)});
    const Network max_form = with_output({max_layer(w1, b1, {2, 2, 2}), max_layer(w2, b2, {2, 2, 2}), mix_max});
    const Domain box = Domain::cube(2, -2, 2);
    const std::uint64_t expected = reference::patterns(max_form, {-2, -2}, {2, 2}).size();
    ASSERT_EQ(reference::patterns(clipped, {-2, -2}, {2, 2}).size(), expected) << "seed " << seed;
    expect_count_in_every_engine(clipped, box, expected);
    expect_count_in_every_engine(two_relu, box, expected);
    expect_count_in_every_engine(max_form, box, expected);
  }
}

// The neuron report of max(relu(x), relu(y)) (see TiedZeroReluOutputsDoNotSplit): the unit is in
// state 0 on 3 regions covering 5/8 of the box, in state 1 on 2 regions covering 3/8.
TEST(NeuronReport, MaxUnitsGetTheShareOfRegionsAndVolumeInEachState) {
  const Network net = with_output({layer(Eigen::Matrix2d::Identity(), Eigen::Vector2d::Zero(), Activation::kRelu),
                                   max_layer(Eigen::Matrix2d::Identity(), Eigen::Vector2d::Zero(), {2})});
  for (Engine engine : kEngines) {
    EnumerateOptions options;
    options.engine = engine;
    const relutope::NeuronReport report = relutope::analyze_neurons(net, Domain::cube(2, -1, 1), options, 200000);
    ASSERT_EQ(report.neurons.size(), 3u);
    const relutope::NeuronStats& unit = report.neurons[2];
    EXPECT_TRUE(unit.is_max_unit);
    EXPECT_EQ(unit.layer, 1);
    EXPECT_EQ(unit.neuron, 0);
    EXPECT_EQ(unit.state, relutope::NeuronState::kSwitching);
    EXPECT_EQ(unit.regions_in_state, (std::vector<std::uint64_t>{3, 2}));
    const double tolerance = report.exact_volumes ? 1e-12 : 0.01;
    EXPECT_NEAR(unit.volume_fraction_in_state[0], 5.0 / 8, tolerance) << relutope::engine_name(engine);
    EXPECT_NEAR(unit.volume_fraction_in_state[1], 3.0 / 8, tolerance) << relutope::engine_name(engine);
    EXPECT_EQ(report.neurons[0].regions_in_state, (std::vector<std::uint64_t>{2, 3}));
  }
}

// max(x + 5, y, x - y) on [-1, 1]^2: row 0 is the largest everywhere, the analogue of a dead unit.
TEST(NeuronReport, AMaxUnitWhoseStateNeverChangesIsFixed) {
  Eigen::MatrixXd w(3, 2);
  w << 1, 0, 0, 1, 1, -1;
  const Network net = with_output({max_layer(w, Eigen::Vector3d(5, 0, 0), {3})});
  const relutope::NeuronReport report = relutope::analyze_neurons(net, Domain::cube(2, -1, 1), {});
  ASSERT_EQ(report.neurons.size(), 1u);
  EXPECT_EQ(report.neurons[0].state, relutope::NeuronState::kFixed);
  EXPECT_EQ(report.neurons[0].regions_in_state, (std::vector<std::uint64_t>{1, 0, 0}));
  EXPECT_EQ(relutope::neuron_states_by_intervals(net, Domain::cube(2, -1, 1))[0][0], relutope::NeuronState::kFixed);
  std::vector<int> dead, active;
  relutope::count_stable(report.states, dead, active);
  EXPECT_EQ(dead, std::vector<int>{1});
}

// hardtanh(x) = -1 + relu(x + 1) - relu(x - 1) beside a plain relu(x), on [-2, 2]: the clip is one
// 3-state unit (issue 9), at -1 on [-2, -1], between on [-1, 1], at 1 on [1, 2]; it was two rows of the
// report, each a neuron of its own.
TEST(NeuronReport, AClipIsOneUnitWithTheShareOfRegionsAndVolumeInEachOfItsThreeStates) {
  Layer clip = layer((Eigen::MatrixXd(3, 1) << 1, 1, 1).finished(), Eigen::Vector3d(1, -1, 0), Activation::kRelu);
  clip.unit_rows = {2, 1};
  const Network net = with_output({clip});
  for (Engine engine : kEngines) {
    SCOPED_TRACE(relutope::engine_name(engine));
    EnumerateOptions options;
    options.engine = engine;
    const relutope::NeuronReport report = relutope::analyze_neurons(net, Domain::cube(1, -2, 2), options, 200000);
    EXPECT_EQ(report.num_regions, 4u);  // x = -1, 0, 1
    ASSERT_EQ(report.neurons.size(), 2u);
    const relutope::NeuronStats& unit = report.neurons[0];
    EXPECT_TRUE(unit.is_clip_unit);
    EXPECT_FALSE(unit.is_max_unit);
    EXPECT_EQ(unit.neuron, 0);
    EXPECT_EQ(unit.state, relutope::NeuronState::kSwitching);
    EXPECT_EQ(unit.regions_in_state, (std::vector<std::uint64_t>{1, 2, 1}));
    ASSERT_EQ(unit.volume_fraction_in_state.size(), 3u);
    const double tolerance = report.exact_volumes ? 1e-12 : 0.01;
    EXPECT_NEAR(unit.volume_fraction_in_state[0], 0.25, tolerance);
    EXPECT_NEAR(unit.volume_fraction_in_state[1], 0.5, tolerance);
    EXPECT_NEAR(unit.volume_fraction_in_state[2], 0.25, tolerance);
    // The relu beside it stays a neuron: row 2, active on 2 regions ([0, 1] and [1, 2]), half the volume.
    const relutope::NeuronStats& relu = report.neurons[1];
    EXPECT_FALSE(relu.is_clip_unit);
    EXPECT_EQ(relu.neuron, 2);
    EXPECT_EQ(relu.regions_active, 2u);
    EXPECT_NEAR(relu.volume_fraction_active, 0.5, tolerance);
    // Per pattern entry, the clip's rows stay neurons for the bounds.
    ASSERT_EQ(report.states.size(), 1u);
    EXPECT_EQ(report.states[0].size(), 3u);
  }
  // Always between on [-0.5, 0.5]: stably active; always at its upper bound on [1.5, 2]: dead (constant).
  EXPECT_EQ(relutope::analyze_neurons(net, Domain::cube(1, -0.5, 0.5), {}).neurons[0].state,
            relutope::NeuronState::kStablyActive);
  const relutope::NeuronReport top = relutope::analyze_neurons(net, Domain::cube(1, 1.5, 2), {});
  EXPECT_EQ(top.neurons[0].state, relutope::NeuronState::kDead);
  EXPECT_EQ(top.neurons[0].regions_in_state, (std::vector<std::uint64_t>{0, 0, 1}));
}

TEST(PatternString, ClipUnitsWriteTheirStateAndMaxUnitsTheirIndex) {
  Layer clip = layer(Eigen::MatrixXd::Ones(3, 1), Eigen::Vector3d::Zero(), Activation::kRelu);
  clip.unit_rows = {2, 1};
  Layer max = max_layer(Eigen::MatrixXd::Ones(15, 3), Eigen::VectorXd::Zero(15), {12, 1, 2});
  const Network net = with_output({clip, max});
  EXPECT_EQ(net.hidden_widths(), (std::vector<int>{3, 2}));
  EXPECT_EQ(relutope::pattern_string({1, 0, 1, 11, 1}, net), "11|11.1");
  EXPECT_EQ(relutope::pattern_string({1, 1, 0, 3, 0}, net), "20|3.0");
  EXPECT_EQ(relutope::pattern_string({0, 0, 1}, with_output({layer(Eigen::MatrixXd::Ones(3, 1), Eigen::Vector3d::Zero(),
                                                                    Activation::kRelu)})),
            "001");
}

TEST(Bounds, MaxUnitsCountTheirStatesAndPairsAndTheReluTheoryIsMarkedNotApplicable) {
  // 2 inputs -> ReLU 3 -> Max units of 3 and 2 rows over them
  const Network net = with_output({layer(Eigen::MatrixXd::Ones(3, 2), Eigen::Vector3d::Zero(), Activation::kRelu),
                                   max_layer(Eigen::MatrixXd::Ones(5, 3), Eigen::VectorXd::Zero(5), {3, 2})});
  const relutope::Architecture arch = relutope::Architecture::of(net);
  EXPECT_EQ(arch.widths, (std::vector<int>{3, 2}));
  EXPECT_EQ(arch.hyperplanes, (std::vector<int>{3, 3 + 1}));
  const std::vector<relutope::Bound> bounds = relutope::region_bounds(arch);
  auto find = [&](const std::string& id) -> const relutope::Bound& {
    for (const relutope::Bound& b : bounds)
      if (b.id == id) return b;
    throw std::runtime_error("no bound " + id);
  };
  EXPECT_EQ(find("trivial").value, "48");  // 2^3 * 3 * 2
  // sum_{j<=2} C(3, j) = 7 for the ReLU layer, then C(4, j) for j <= min(2, 3) = 11
  EXPECT_EQ(find("arrangement_product").value, "77");
  for (const char* id : {"montufar2017_upper", "serra2018_upper", "serra2018_upper_rank", "weight_aware_upper",
                         "montufar2014_lower", "serra2018_lower", "serra2018_n0_1", "zaslavsky"})
    EXPECT_FALSE(find(id).applies) << id;
}

INSTANTIATE_TEST_SUITE_P(Seeds, GraphUnits, testing::Range<std::uint64_t>(1, 41));

}  // namespace
