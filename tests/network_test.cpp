// The Network model: validation messages, forward evaluation, sizes and seeded random networks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "relutope/error.h"
#include "relutope/network.h"
#include "relutope/random_network.h"

namespace {

using relutope::Activation;
using relutope::InputError;
using relutope::Layer;
using relutope::Network;
using testing::AllOf;
using testing::HasSubstr;
using testing::Not;
using testing::ThrowsMessage;

Layer make_layer(Eigen::MatrixXd weight, Eigen::VectorXd bias, Activation activation,
                 Eigen::VectorXd negative_slope = Eigen::VectorXd()) {
  Layer layer;
  layer.weight = std::move(weight);
  layer.bias = std::move(bias);
  layer.activation = activation;
  layer.negative_slope = std::move(negative_slope);
  return layer;
}

// 2 inputs -> 2 hidden neurons with the given activation -> 1 output.
// Hidden pre-activations: z = (x0 - x1, 2 x0 + x1 - 1); output: h0 + h1 + 0.5.
Network small_network(Activation activation, Eigen::VectorXd negative_slope = Eigen::VectorXd()) {
  Eigen::MatrixXd w1(2, 2);
  w1 << 1, -1, 2, 1;
  Eigen::MatrixXd w2(1, 2);
  w2 << 1, 1;
  Network net;
  net.source = "small";
  net.layers.push_back(make_layer(w1, Eigen::Vector2d(0, -1), activation, std::move(negative_slope)));
  net.layers.push_back(make_layer(w2, Eigen::VectorXd::Constant(1, 0.5), Activation::kNone));
  return net;
}

// ---------------------------------------------------------------------------------------------- validate

TEST(NetworkValidate, AcceptsAWellFormedNetwork) {
  EXPECT_NO_THROW(small_network(Activation::kRelu).validate());
  EXPECT_NO_THROW(small_network(Activation::kLeakyRelu, Eigen::VectorXd::Constant(1, 0.1)).validate());
  EXPECT_NO_THROW(small_network(Activation::kPRelu, Eigen::Vector2d(0.1, 0.2)).validate());
  EXPECT_NO_THROW(small_network(Activation::kPRelu, Eigen::VectorXd::Constant(1, 0.1)).validate());
}

TEST(NetworkValidate, ListsEveryProblemInOneMessage) {
  Network net = small_network(Activation::kRelu);
  net.layers[0].bias[1] = std::numeric_limits<double>::quiet_NaN();
  net.layers[1].weight = Eigen::MatrixXd::Ones(1, 3);  // layers[0] has 2 outputs
  EXPECT_THAT([&] { net.validate(); },
              ThrowsMessage<InputError>(AllOf(HasSubstr("small: invalid network"), HasSubstr("layers[0].bias[1]"),
                                              HasSubstr("expected a finite number"),
                                              HasSubstr("layers[1].weight: expected 1x2"), HasSubstr("got 1x3"))));
}

TEST(NetworkValidate, NamesTheRowAndColumnOfANonFiniteWeight) {
  Network net = small_network(Activation::kRelu);
  net.layers[0].weight(1, 0) = std::numeric_limits<double>::infinity();
  EXPECT_THAT([&] { net.validate(); }, ThrowsMessage<InputError>(HasSubstr("layers[0].weight[1][0]")));
}

TEST(NetworkValidate, NamesABiasOfTheWrongLength) {
  Network net = small_network(Activation::kRelu);
  net.layers[1].bias = Eigen::Vector2d(0, 0);
  EXPECT_THAT([&] { net.validate(); }, ThrowsMessage<InputError>(HasSubstr("layers[1].bias: expected 1 entries, got 2")));
}

TEST(NetworkValidate, RequiresOneSlopeForLeakyRelu) {
  const Network net = small_network(Activation::kLeakyRelu);
  EXPECT_THAT([&] { net.validate(); },
              ThrowsMessage<InputError>(HasSubstr("layers[0].negative_slope: expected 1 value, got 0")));
}

TEST(NetworkValidate, RequiresOneSlopeOrOnePerNeuronForPRelu) {
  const Network net = small_network(Activation::kPRelu, Eigen::Vector3d(0.1, 0.2, 0.3));
  EXPECT_THAT([&] { net.validate(); },
              ThrowsMessage<InputError>(HasSubstr("layers[0].negative_slope: expected 1 or 2 values, got 3")));
}

TEST(NetworkValidate, RejectsSlopesOnAReluLayer) {
  const Network net = small_network(Activation::kRelu, Eigen::VectorXd::Constant(1, 0.1));
  EXPECT_THAT([&] { net.validate(); }, ThrowsMessage<InputError>(HasSubstr("layers[0].negative_slope: not used by relu")));
}

TEST(NetworkValidate, RejectsANetworkWithoutLayers) {
  const Network net;
  EXPECT_THAT([&] { net.validate(); }, ThrowsMessage<InputError>(AllOf(HasSubstr("network: "), HasSubstr("no layers"))));
}

TEST(NetworkValidate, OnlyReportsTheProblemsThereAre) {
  Network net = small_network(Activation::kRelu);
  net.layers[1].bias = Eigen::Vector2d(0, 0);
  EXPECT_THAT([&] { net.validate(); }, ThrowsMessage<InputError>(AllOf(Not(HasSubstr("layers[0]")), Not(HasSubstr(".weight")))));
}

// ---------------------------------------------------------------------------------------------- evaluate

TEST(NetworkEvaluate, ZeroesNegativePreActivationsWithRelu) {
  // z = (1 - 2, 2 + 2 - 1) = (-1, 3) -> (0, 3) -> 0 + 3 + 0.5
  EXPECT_DOUBLE_EQ(small_network(Activation::kRelu).evaluate(Eigen::Vector2d(1, 2))[0], 3.5);
  // z = (2 + 1, 4 - 1 - 1) = (3, 2): both active, so 3 + 2 + 0.5
  EXPECT_DOUBLE_EQ(small_network(Activation::kRelu).evaluate(Eigen::Vector2d(2, -1))[0], 5.5);
}

TEST(NetworkEvaluate, ScalesNegativePreActivationsWithLeakyRelu) {
  // z = (-1, 3) -> (-0.1, 3) -> 3.4
  const Network net = small_network(Activation::kLeakyRelu, Eigen::VectorXd::Constant(1, 0.1));
  EXPECT_DOUBLE_EQ(net.evaluate(Eigen::Vector2d(1, 2))[0], 3.4);
  // z = (0, -1) at x = (0, 0): -1 -> -0.1, so 0 - 0.1 + 0.5
  EXPECT_DOUBLE_EQ(net.evaluate(Eigen::Vector2d(0, 0))[0], 0.4);
}

TEST(NetworkEvaluate, UsesEachNeuronsOwnSlopeWithPRelu) {
  // x = (-1, 0): z = (-1, -3) -> (-0.2, -1.5) -> -1.2
  const Network net = small_network(Activation::kPRelu, Eigen::Vector2d(0.2, 0.5));
  EXPECT_DOUBLE_EQ(net.evaluate(Eigen::Vector2d(-1, 0))[0], -1.2);
}

TEST(NetworkEvaluate, LeavesTheLastAffineLayerLinear) {
  Network net = small_network(Activation::kRelu);
  net.layers[1].bias[0] = -10;  // the output is negative, and must stay so
  EXPECT_DOUBLE_EQ(net.evaluate(Eigen::Vector2d(1, 2))[0], -7.0);
}

// ---------------------------------------------------------------------------------------------- sizes

TEST(Network, CountsTheWidthsOfTheSplittingLayersOnly) {
  Network net;
  net.layers.push_back(make_layer(Eigen::MatrixXd::Ones(4, 3), Eigen::VectorXd::Zero(4), Activation::kRelu));
  net.layers.push_back(make_layer(Eigen::MatrixXd::Ones(5, 4), Eigen::VectorXd::Zero(5), Activation::kLeakyRelu,
                                  Eigen::VectorXd::Constant(1, 0.01)));
  net.layers.push_back(make_layer(Eigen::MatrixXd::Ones(2, 5), Eigen::VectorXd::Zero(2), Activation::kNone));
  EXPECT_EQ(net.input_dim(), 3);
  EXPECT_EQ(net.output_dim(), 2);
  EXPECT_EQ(net.hidden_widths(), (std::vector<int>{4, 5}));
  EXPECT_EQ(net.num_neurons(), 9);
  EXPECT_NO_THROW(net.validate());
}

TEST(Network, HasNoSizesWithoutLayers) {
  const Network net;
  EXPECT_EQ(net.input_dim(), 0);
  EXPECT_EQ(net.output_dim(), 0);
  EXPECT_TRUE(net.hidden_widths().empty());
  EXPECT_EQ(net.num_neurons(), 0);
}

TEST(Network, NamesActivationsForMessages) {
  EXPECT_STREQ(relutope::activation_name(Activation::kNone), "none");
  EXPECT_STREQ(relutope::activation_name(Activation::kRelu), "relu");
  EXPECT_STREQ(relutope::activation_name(Activation::kLeakyRelu), "leaky_relu");
  EXPECT_STREQ(relutope::activation_name(Activation::kPRelu), "prelu");
}

// ---------------------------------------------------------------------------------------------- random_network

void expect_same_network(const Network& a, const Network& b) {
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (std::size_t l = 0; l < a.layers.size(); ++l) {
    EXPECT_EQ(a.layers[l].weight, b.layers[l].weight) << "layers[" << l << "]";
    EXPECT_EQ(a.layers[l].bias, b.layers[l].bias) << "layers[" << l << "]";
    EXPECT_EQ(a.layers[l].activation, b.layers[l].activation) << "layers[" << l << "]";
  }
}

TEST(RandomNetwork, IsTheSameForTheSameSeed) {
  expect_same_network(relutope::random_network(3, {8, 6}, 2, 42), relutope::random_network(3, {8, 6}, 2, 42));
  expect_same_network(relutope::random_network(3, {8, 6}, 2, 42, relutope::RandomInit::kHe),
                      relutope::random_network(3, {8, 6}, 2, 42, relutope::RandomInit::kHe));
}

TEST(RandomNetwork, DiffersBetweenSeeds) {
  const Network a = relutope::random_network(3, {8, 6}, 2, 42);
  const Network b = relutope::random_network(3, {8, 6}, 2, 43);
  EXPECT_NE(a.layers[0].weight, b.layers[0].weight);
  EXPECT_NE(a.layers.back().bias, b.layers.back().bias);
}

TEST(RandomNetwork, HasTheRequestedShapeAndReluHiddenLayers) {
  const Network net = relutope::random_network(3, {8, 6}, 2, 7);
  EXPECT_NO_THROW(net.validate());
  EXPECT_EQ(net.input_dim(), 3);
  EXPECT_EQ(net.output_dim(), 2);
  EXPECT_EQ(net.hidden_widths(), (std::vector<int>{8, 6}));
  ASSERT_EQ(net.layers.size(), 3u);
  EXPECT_EQ(net.layers[0].activation, Activation::kRelu);
  EXPECT_EQ(net.layers[1].activation, Activation::kRelu);
  EXPECT_EQ(net.layers[2].activation, Activation::kNone);
}

TEST(RandomNetwork, DrawsTorchDefaultWeightsWithinOneOverSqrtFanIn) {
  const Network net = relutope::random_network(4, {9}, 1, 1);
  EXPECT_LE(net.layers[0].weight.cwiseAbs().maxCoeff(), 0.5);  // 1/sqrt(4)
  EXPECT_LE(net.layers[0].bias.cwiseAbs().maxCoeff(), 0.5);
  EXPECT_LE(net.layers[1].weight.cwiseAbs().maxCoeff(), 1.0 / 3.0);  // 1/sqrt(9)
  EXPECT_GT(net.layers[0].weight.cwiseAbs().maxCoeff(), 0.0);
}

}  // namespace
