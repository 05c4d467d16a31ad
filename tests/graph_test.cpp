// Graph models (issue 9): PyTorch exports of every supported operator, read as a Graph and lowered to
// layers. The truth is PyTorch's own forward pass in float64 (tests/data/graph/make_graph_models.py).
#include "relutope/graph.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "relutope/error.h"
#include "relutope/io.h"
#include "relutope/network.h"
#include "support/data_path.h"
#include "support/io_samples.h"

namespace {

using relutope::Activation;
using relutope::Graph;
using relutope::InputError;
using relutope::Network;
using testing::HasSubstr;
using testing::ThrowsMessage;

std::string graph_path(const std::string& name) { return data_path("graph/" + name); }

Eigen::VectorXd softmax(const Eigen::VectorXd& z) {
  const Eigen::ArrayXd e = (z.array() - z.maxCoeff()).exp();
  return e / e.sum();
}

// `f` maps every stored input to PyTorch's float64 output within 1e-10 of the output's scale.
void expect_reproduces(const std::function<Eigen::VectorXd(const Eigen::VectorXd&)>& f, const std::string& stem,
                       bool softmax_head = false) {
  const IoSamples io = read_io(graph_path(stem + ".io.txt"));
  ASSERT_EQ(io.inputs.size(), 20u) << stem;
  for (std::size_t s = 0; s < io.inputs.size(); ++s) {
    Eigen::VectorXd y = f(io.inputs[s]);
    if (softmax_head) y = softmax(y);
    ASSERT_EQ(y.size(), io.output_dim) << stem;
    const double scale = std::max(1.0, io.outputs[s].cwiseAbs().maxCoeff());
    EXPECT_LE((y - io.outputs[s]).cwiseAbs().maxCoeff(), 1e-10 * scale) << stem << ": sample " << s;
  }
}

class GraphFixture : public testing::TestWithParam<std::string> {};

TEST_P(GraphFixture, GraphAndLoweredNetworkReproducePyTorch) {
  const std::string stem = GetParam();
  const Graph graph = relutope::load_graph_onnx(graph_path(stem + ".onnx"));
  const bool head = stem.rfind("softmax_head", 0) == 0;
  expect_reproduces([&](const Eigen::VectorXd& x) { return graph.evaluate(x); }, stem, head);
  const Network net = relutope::load_network(graph_path(stem + ".onnx"));
  EXPECT_EQ(net.input_dim(), graph.input_dim());
  expect_reproduces([&](const Eigen::VectorXd& x) { return net.evaluate(x); }, stem, head);
}

INSTANTIATE_TEST_SUITE_P(
    PyTorchExports, GraphFixture,
    testing::Values("residual_mlp_opset11", "residual_mlp_opset13", "residual_mlp_opset17", "bn1d_mlp_opset11",
                    "bn1d_mlp_opset13", "bn1d_mlp_opset17", "small_cnn_opset11", "small_cnn_opset13", "small_cnn_opset17",
                    "conv_variants_opset13", "conv1d_opset11", "conv1d_opset17", "pools_opset11", "pools_opset17",
                    "clips_opset11", "clips_opset13", "clips_opset17", "elementwise_opset11", "elementwise_opset13",
                    "elementwise_opset17", "softmax_head_opset13"));

std::vector<Activation> activations(const Network& net) {
  std::vector<Activation> out;
  for (const auto& layer : net.layers) out.push_back(layer.activation);
  return out;
}

TEST(LowerGraph, ResidualValueIsCarriedAsLinearRows) {
  // out = W2 (x + relu(W1 x + b1)) + b2: one layer of 3 ReLU rows and 3 rows of slope 1 carrying x.
  const Network net = relutope::load_network(graph_path("residual_mlp_opset13.onnx"));
  ASSERT_EQ(activations(net), (std::vector<Activation>{Activation::kPRelu, Activation::kNone}));
  EXPECT_EQ(net.layers[0].num_rows(), 6);
  EXPECT_EQ(net.layers[0].negative_slope, (Eigen::VectorXd(6) << 0, 0, 0, 1, 1, 1).finished());
  EXPECT_EQ(net.layers[0].weight.bottomRows(3), Eigen::MatrixXd::Identity(3, 3));
  EXPECT_EQ(net.layers[0].bias.tail(3), Eigen::VectorXd::Zero(3));
}

TEST(LowerGraph, BatchNormFoldsIntoTheGemmBeforeIt) {
  const Network net = relutope::load_network(graph_path("bn1d_mlp_opset13.onnx"));
  EXPECT_EQ(activations(net), (std::vector<Activation>{Activation::kRelu, Activation::kNone}));
  EXPECT_EQ(net.hidden_widths(), (std::vector<int>{5}));
}

TEST(LowerGraph, MaxPoolWindowsBecomeMaxUnits) {
  // Conv(1->3, 6x6, pad 1) + BN + ReLU: 108 rows; MaxPool 2x2: 27 units of 4 rows; the residual
  // block's ReLU: 27 rows. Nothing is carried past the pooling: the block reads only the pooled value.
  const Network net = relutope::load_network(graph_path("small_cnn_opset13.onnx"));
  ASSERT_EQ(activations(net),
            (std::vector<Activation>{Activation::kRelu, Activation::kMax, Activation::kRelu, Activation::kNone}));
  EXPECT_EQ(net.layers[0].num_rows(), 108);
  EXPECT_EQ(net.layers[1].num_rows(), 108);
  EXPECT_EQ(net.layers[1].unit_rows, std::vector<int>(27, 4));
  EXPECT_EQ(net.layers[2].num_rows(), 27);
}

TEST(LowerGraph, TwoSidedClipsAreTwoReluRowsPerUnit) {
  const Graph graph = relutope::load_graph_onnx(graph_path("clips_opset13.onnx"));
  int clips = 0;
  for (const auto& node : graph.nodes) clips += node.kind == relutope::OpKind::kClip;
  EXPECT_EQ(clips, 5);  // Hardtanh, ReLU6, clamp(min=0), clamp(max), clamp(min): each a Clip at opset 13
  const Network net = relutope::load_network(graph_path("clips_opset13.onnx"));
  bool found = false;
  for (const auto& layer : net.layers)
    if (!layer.unit_rows.empty() && layer.unit_rows[0] == 2) {
      found = true;
      EXPECT_EQ(layer.activation, Activation::kPRelu);  // the other branches are carried at slope 1
    }
  EXPECT_TRUE(found);
}

TEST(LowerGraph, SoftmaxHeadIsRecordedNotLowered) {
  const Network net = relutope::load_network(graph_path("softmax_head_opset13.onnx"));
  EXPECT_EQ(net.output_head, "Softmax");
  EXPECT_EQ(net.hidden_widths(), (std::vector<int>{5}));
  EXPECT_EQ(net.output_dim(), 3);
}

TEST(LowerGraph, DenseSizeIsCheckedBeforeAllocating) {
  const Graph graph = relutope::load_graph_onnx(graph_path("small_cnn_opset13.onnx"));
  EXPECT_THAT([&] { relutope::lower_to_network(graph, 10000); },
              ThrowsMessage<InputError>(testing::AllOf(HasSubstr("small_cnn_opset13.onnx: too large for dense layers"),
                                                       HasSubstr("more than the limit of 1 MB"))));
}

TEST(GraphAffineFamily, DirectionsGetNoBias) {
  // apply_affine on [point | directions]: the point column is the forward pass, the directions the
  // linear part. Checked on the CNN's first Conv: f(o + d) - f(o) must equal the direction's image.
  const Graph graph = relutope::load_graph_onnx(graph_path("small_cnn_opset13.onnx"));
  const relutope::GraphNode* conv = nullptr;
  for (const auto& node : graph.nodes)
    if (node.kind == relutope::OpKind::kConv) {
      conv = &node;
      break;
    }
  ASSERT_NE(conv, nullptr);
  const Eigen::VectorXd o = Eigen::VectorXd::LinSpaced(36, -1, 1), d = Eigen::VectorXd::LinSpaced(36, 0.5, -0.3);
  Eigen::MatrixXd family(36, 2);
  family << o, d;
  const Eigen::MatrixXd both = relutope::apply_affine(*conv, {&family});
  const Eigen::MatrixXd at_o = o, at_od = o + d;
  const Eigen::MatrixXd fo = relutope::apply_affine(*conv, {&at_o}), fod = relutope::apply_affine(*conv, {&at_od});
  EXPECT_LE((both.col(0) - fo).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_LE((both.col(1) - (fod - fo)).cwiseAbs().maxCoeff(), 1e-12);
}

// ---------------------------------------------------------------------------------------------- bad models

TEST(GraphBadModel, UnsupportedOperatorNamesTheNodeAndListsWhatIsSupported) {
  const std::string path = graph_path("bad/unsupported_abs.onnx");
  EXPECT_THAT([&] { relutope::load_network(path); },
              ThrowsMessage<InputError>(testing::AllOf(HasSubstr(path), HasSubstr("node \"/Abs\" (Abs): op type Abs is not supported"),
                                                       HasSubstr("Conv, BatchNormalization"))));
}

TEST(GraphBadModel, DynamicDimensionOtherThanTheBatchIsNamed) {
  const std::string path = graph_path("bad/dynamic_height.onnx");
  EXPECT_THAT([&] { relutope::load_network(path); },
              ThrowsMessage<InputError>(HasSubstr("input \"input\": dimension 2 (\"height\") has no fixed size")));
}

TEST(GraphBadModel, MaxPoolCeilModeThatAddsAWindowIsRefused) {
  const std::string path = graph_path("bad/maxpool_ceil_mode.onnx");
  EXPECT_THAT([&] { relutope::load_network(path); },
              ThrowsMessage<InputError>(testing::AllOf(HasSubstr("(MaxPool): ceil_mode=1 is not supported"),
                                                       HasSubstr("3 outputs instead of 2"))));
}

TEST(GraphBadModel, ConvWeightThatIsAGraphInputIsRefused) {
  const std::string path = graph_path("bad/conv_weight_input.onnx");
  EXPECT_THAT([&] { relutope::load_network(path); },
              ThrowsMessage<InputError>(HasSubstr("(Conv): weight \"weight\" is a graph input, not a constant")));
}

}  // namespace
