#include "relutope/bounds.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "relutope/enumerate.h"
#include "relutope/error.h"
#include "relutope/neurons.h"
#include "relutope/random_network.h"
#include "support/networks.h"

namespace {

using relutope::Architecture;
using relutope::Bound;
using relutope::Engine;
using relutope::EnumerateOptions;

const Bound& find(const std::vector<Bound>& bounds, const std::string& id) {
  for (const Bound& b : bounds)
    if (b.id == id) return b;
  throw std::runtime_error("no bound " + id);
}

std::string value(const Architecture& arch, const std::string& id) {
  const std::vector<Bound> bounds = relutope::region_bounds(arch);  // outlives the reference find() returns
  const Bound& b = find(bounds, id);
  return b.applies ? b.value : "n/a";
}

Architecture arch(int n0, std::vector<int> widths) {
  Architecture a;
  a.input_dim = n0;
  a.widths = std::move(widths);
  return a;
}

// The test vectors of shared/reference/theory.md, section 1(d).
TEST(Bounds, MatchTheTestVectorsOfTheTheoryNotes) {
  EXPECT_EQ(value(arch(1, {3, 3, 3}), "serra2018_upper"), "64");
  EXPECT_EQ(value(arch(1, {3, 3, 3}), "montufar2017_upper"), "64");
  EXPECT_EQ(value(arch(1, {3, 3, 3}), "trivial"), "512");
  EXPECT_EQ(value(arch(1, {3, 3, 3}), "montufar2014_lower"), "36");
  EXPECT_EQ(value(arch(1, {3, 3, 3}), "serra2018_lower"), "64");
  EXPECT_EQ(value(arch(1, {3, 3, 3}), "serra2018_n0_1"), "64");

  EXPECT_EQ(value(arch(2, {6, 6, 6}), "serra2018_upper"), "10648");
  EXPECT_EQ(value(arch(2, {6, 6, 6}), "montufar2017_upper"), "10648");
  EXPECT_EQ(value(arch(2, {6, 6, 6}), "trivial"), "262144");
  EXPECT_EQ(value(arch(2, {6, 6, 6}), "montufar2014_lower"), "1782");
  EXPECT_EQ(value(arch(2, {6, 6, 6}), "serra2018_lower"), "5632");

  EXPECT_EQ(value(arch(3, {9, 9}), "serra2018_upper"), "16900");
  EXPECT_EQ(value(arch(3, {9, 9}), "montufar2017_upper"), "16900");
  EXPECT_EQ(value(arch(3, {9, 9}), "montufar2014_lower"), "3510");
  EXPECT_EQ(value(arch(3, {9, 9}), "serra2018_lower"), "8320");

  EXPECT_EQ(value(arch(784, {11, 11}), "serra2018_upper"), "2449868");
  EXPECT_EQ(value(arch(784, {11, 11}), "montufar2017_upper"), "4194304");
  EXPECT_EQ(value(arch(784, {11, 11}), "montufar2014_lower"), "n/a");
  EXPECT_EQ(value(arch(784, {11, 11}), "serra2018_lower"), "n/a");
  EXPECT_EQ(value(arch(784, {10, 12}), "serra2018_upper"), "1744436");
  EXPECT_EQ(value(arch(784, {12, 10}), "serra2018_upper"), "3096514");
  EXPECT_EQ(value(arch(784, {10, 12}), "montufar2017_upper"), "4180992");
}

TEST(Bounds, SerraUpperBoundRisesWithTheFirstWidthInTheBottleneckSweep) {
  // theory.md: n0 = 784, n1 + n2 = 22, n1 = 1..21: UB_S18 rises monotonically from 23 to 4,194,303.
  std::string previous = "0";
  for (int n1 = 1; n1 <= 21; ++n1) {
    const std::string v = value(arch(784, {n1, 22 - n1}), "serra2018_upper");
    EXPECT_EQ(relutope::compare_count(std::stoull(previous), v), -1) << "n1=" << n1;
    previous = v;
  }
  EXPECT_EQ(value(arch(784, {1, 21}), "serra2018_upper"), "23");
  EXPECT_EQ(value(arch(784, {21, 1}), "serra2018_upper"), "4194303");
}

TEST(Bounds, OneLayerIsZaslavskyAndInputDimensionOneIsTheProductOfWidthsPlusOne) {
  EXPECT_EQ(value(arch(2, {5}), "zaslavsky"), "16");  // 1 + 5 + 10
  EXPECT_EQ(value(arch(2, {5}), "serra2018_upper"), "16");
  EXPECT_EQ(value(arch(2, {5, 5}), "zaslavsky"), "n/a");
  EXPECT_EQ(value(arch(1, {4, 5, 6}), "serra2018_n0_1"), "210");
  EXPECT_EQ(value(arch(1, {4, 5, 6}), "serra2018_upper"), "210");
  EXPECT_EQ(value(arch(1, {2, 5}), "serra2018_n0_1"), "n/a");
}

TEST(Bounds, AnAffineNetworkHasOneRegion) {
  const std::vector<Bound> bounds = relutope::region_bounds(arch(3, {}));
  ASSERT_EQ(bounds.size(), 1u);
  EXPECT_EQ(bounds[0].value, "1");
  const relutope::Network net = networks::affine(3);
  for (relutope::Engine engine : {relutope::Engine::kVertex, relutope::Engine::kLp, relutope::Engine::kExact}) {
    relutope::EnumerateOptions options;
    options.engine = engine;
    EXPECT_EQ(relutope::count_regions(net, relutope::Domain::cube(3, -1, 1), options).num_regions, 1u);
  }
}

TEST(Bounds, BigIntegersAreExact) {
  const Architecture a = arch(8, std::vector<int>(20, 100));
  const std::vector<Bound> bounds = relutope::region_bounds(a);
  const Bound& trivial = find(bounds, "trivial");
  EXPECT_EQ(trivial.value.size(), 603u);  // 2^2000 has 603 digits
  EXPECT_NEAR(trivial.log10, 2000 * std::log10(2.0), 1e-9);
  const Bound& serra = find(bounds, "serra2018_upper");
  EXPECT_GT(serra.log10, 100);
  EXPECT_LT(serra.log10, trivial.log10);
}

TEST(Bounds, HaninRolnickPredictionIsNToTheDOverDFactorial) {
  EXPECT_EQ(value(arch(2, {32, 32, 32}), "hanin_rolnick2019"), "4608");
  const std::vector<Bound> bounds = relutope::region_bounds(arch(2, {32, 32, 32}));
  const Bound& b = find(bounds, "hanin_rolnick2019");
  EXPECT_EQ(b.kind, Bound::Kind::kExpectation);
}

TEST(Bounds, RankTightenedBoundNeedsRanksAndIsNoLarger) {
  Architecture a = arch(3, {8, 8});
  EXPECT_EQ(value(a, "serra2018_upper_rank"), "n/a");
  a.ranks = {3, 2};
  EXPECT_EQ(relutope::compare_count(std::stoull(value(a, "serra2018_upper_rank")), value(a, "serra2018_upper")), -1);
}

// A one-input network that reaches Montufar et al. 2014's lower bound prod_{l<L} n_l * (n_L + 1)
// on [0,1]: every layer but the last computes a zigzag with n_l teeth, each mapping onto [0,1]; the
// last layer's breakpoints sit at levels inside (0,1), so each tooth of the composition splits n_L+1 ways.
relutope::Network sawtooth(const std::vector<int>& widths) {
  relutope::Network net;
  int fan_in = 1;
  Eigen::RowVectorXd previous_zigzag = Eigen::RowVectorXd::Ones(1);  // the input itself
  for (std::size_t l = 0; l < widths.size(); ++l) {
    const int n = widths[l];
    const bool last = l + 1 == widths.size();
    relutope::Layer layer;
    layer.weight.resize(n, fan_in);
    layer.bias.resize(n);
    for (int k = 0; k < n; ++k) {
      layer.weight.row(k) = previous_zigzag;
      layer.bias[k] = last ? -(k + 0.5) / n : -static_cast<double>(k) / n;
    }
    net.layers.push_back(layer);
    // zigzag = n h_0 + sum_{k>=1} 2 n (-1)^k h_k: slopes alternate +n, -n on [k/n, (k+1)/n]
    previous_zigzag.resize(n);
    for (int k = 0; k < n; ++k) previous_zigzag[k] = k == 0 ? n : 2.0 * n * (k % 2 ? -1 : 1);
    fan_in = n;
  }
  relutope::Layer out;
  out.weight = Eigen::MatrixXd::Ones(1, fan_in);
  out.bias = Eigen::VectorXd::Zero(1);
  out.activation = relutope::Activation::kNone;
  net.layers.push_back(out);
  return net;
}

TEST(Bounds, ASawtoothNetworkReachesMontufarsLowerBoundExactly) {
  // Widths are powers of two so that the breakpoints k/n are exact doubles: with n = 5 the stored
  // network is not the ideal sawtooth, and exact arithmetic finds the extra slivers that rounding
  // 1/5 creates (the count of the network as stored; see the next test).
  for (const auto& widths : std::vector<std::vector<int>>{{2, 4}, {4, 2, 8}, {4, 4, 4}}) {
    const relutope::Network net = sawtooth(widths);
    const auto count = relutope::count_regions(net, relutope::Domain::cube(1, 0, 1)).num_regions;
    EXPECT_EQ(std::to_string(count), value(arch(1, widths), "montufar2014_lower"));
  }
}

TEST(Bounds, ARoundedSawtoothHasTheSliversOfItsRoundedBreakpoints) {
  // With n = 5 the biases -k/5 are rounded: the network as stored has breakpoints that miss each
  // other by ~1e-17 and makes two more pieces than the ideal sawtooth's 150. Every engine, and the
  // exact one, must agree on the stored network's count.
  const relutope::Network net = sawtooth({5, 5, 5});
  const relutope::Domain unit = relutope::Domain::cube(1, 0, 1);
  EnumerateOptions options;
  options.engine = Engine::kExact;
  const auto exact = relutope::count_regions(net, unit, options).num_regions;
  EXPECT_EQ(exact, 152u);
  for (Engine engine : {Engine::kVertex, Engine::kLp}) {
    options.engine = engine;
    EXPECT_EQ(relutope::count_regions(net, unit, options).num_regions, exact) << relutope::engine_name(engine);
  }
}

TEST(Bounds, ExactCountsNeverExceedAnyApplicableUpperBound) {
  int checked = 0;
  for (int d = 1; d <= 3; ++d)
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
      const std::vector<int> widths = {3 + static_cast<int>(seed % 3), 4, 2 + static_cast<int>(seed % 4)};
      const relutope::Network net = relutope::random_network(d, widths, 1, seed);
      const relutope::Domain box = relutope::Domain::cube(d, -2, 2);
      const auto count = relutope::count_regions(net, box).num_regions;
      Architecture a = Architecture::of(net);
      // weight-aware bound, with stable neurons from the exact enumeration and from intervals
      for (bool exact : {true, false}) {
        const relutope::NeuronStates states = exact ? relutope::analyze_neurons(net, box, {}, 100).states
                                                    : relutope::neuron_states_by_intervals(net, box);
        relutope::count_stable(states, a.stably_inactive, a.stably_active);
        for (const Bound& b : relutope::region_bounds(a))
          if (b.applies && b.kind == Bound::Kind::kUpper) {
            EXPECT_LE(relutope::compare_count(count, b.value), 0) << b.id << " d=" << d << " seed=" << seed;
            ++checked;
          }
      }
    }
  EXPECT_GT(checked, 100);
}

TEST(Neurons, APlantedDeadNeuronIsReportedDeadByBothMethods) {
  relutope::Network net = relutope::random_network(2, {6, 6}, 1, 3);
  net.layers[0].bias[2] = -100;  // pre-activation <= -100 + |w| * 1 < 0 on [-1,1]^2
  net.layers[1].bias[4] = 100;   // stably active
  const relutope::Domain box = relutope::Domain::cube(2, -1, 1);
  const relutope::NeuronReport report = relutope::analyze_neurons(net, box, {}, 20000);
  EXPECT_EQ(report.states[0][2], relutope::NeuronState::kDead);
  EXPECT_EQ(report.states[1][4], relutope::NeuronState::kStablyActive);
  EXPECT_EQ(report.neurons[2].regions_active, 0u);
  EXPECT_EQ(report.neurons[2].volume_fraction_active, 0.0);
  EXPECT_EQ(report.neurons[6 + 4].regions_active, report.num_regions);
  EXPECT_EQ(report.neurons[6 + 4].volume_fraction_active, 1.0);
  const relutope::NeuronStates fast = relutope::neuron_states_by_intervals(net, box);
  EXPECT_EQ(fast[0][2], relutope::NeuronState::kDead);
  // intervals are sound: whatever they decide, the exact enumeration agrees
  for (std::size_t l = 0; l < fast.size(); ++l)
    for (std::size_t i = 0; i < fast[l].size(); ++i)
      if (fast[l][i] != relutope::NeuronState::kUnknown) {
        EXPECT_EQ(fast[l][i], report.states[l][i]);
      }
  int switching = 0;
  for (const auto& n : report.neurons) switching += n.state == relutope::NeuronState::kSwitching;
  EXPECT_GT(switching, 0);
}

TEST(Neurons, ExactVolumeSharesAgreeWithSampledOnes) {
  const relutope::Network net = relutope::random_network(3, {6, 6}, 1, 8);
  const relutope::Domain box = relutope::Domain::cube(3, -1, 1);
  relutope::EnumerateOptions vertex, lp;
  vertex.engine = relutope::Engine::kVertex;
  lp.engine = relutope::Engine::kLp;
  const relutope::NeuronReport exact = relutope::analyze_neurons(net, box, vertex);
  const relutope::NeuronReport sampled = relutope::analyze_neurons(net, box, lp, 200000);
  ASSERT_TRUE(exact.exact_volumes);
  ASSERT_FALSE(sampled.exact_volumes);
  ASSERT_EQ(exact.neurons.size(), sampled.neurons.size());
  for (std::size_t k = 0; k < exact.neurons.size(); ++k) {
    EXPECT_NEAR(exact.neurons[k].volume_fraction_active, sampled.neurons[k].volume_fraction_active, 0.006) << k;
    EXPECT_EQ(exact.neurons[k].regions_active, sampled.neurons[k].regions_active);
  }
}

}  // namespace
