// Graph models (issue 9): PyTorch exports of every supported operator, read as a Graph and lowered to
// layers. The truth is PyTorch's own forward pass in float64 (tests/data/graph/make_graph_models.py).
#include "relutope/graph.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "relutope/domain.h"
#include "relutope/enumerate.h"
#include "relutope/error.h"
#include "relutope/io.h"
#include "relutope/network.h"
#include "relutope/slice.h"
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

// `f` maps every stored input to PyTorch's float64 output within 1e-10 of the output's scale. Only
// PyTorch's fused export differs more: it stores the Conv+BatchNorm weights it fused rounded to float32.
void expect_reproduces(const std::function<Eigen::VectorXd(const Eigen::VectorXd&)>& f, const std::string& stem,
                       bool softmax_head = false) {
  const double tolerance = stem.find("_fused_") != std::string::npos ? 1e-6 : 1e-10;
  const IoSamples io = read_io(graph_path(stem + ".io.txt"));
  ASSERT_EQ(io.inputs.size(), 20u) << stem;
  for (std::size_t s = 0; s < io.inputs.size(); ++s) {
    Eigen::VectorXd y = f(io.inputs[s]);
    if (softmax_head) y = softmax(y);
    ASSERT_EQ(y.size(), io.output_dim) << stem;
    const double scale = std::max(1.0, io.outputs[s].cwiseAbs().maxCoeff());
    EXPECT_LE((y - io.outputs[s]).cwiseAbs().maxCoeff(), tolerance * scale) << stem << ": sample " << s;
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
                    "elementwise_opset17", "softmax_head_opset13", "small_cnn_fused_opset13",
                    // .io.txt: the logits, which the forward pass of a model with a head gives
                    "channel_softmax_head_opset11", "channel_softmax_head_opset13"));

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

// A softmax over an image's channels: at opset 11 PyTorch writes Transpose, Softmax, Transpose back.
// Only the head is smooth; it was refused as "not piecewise linear ... no linear regions".
TEST(LowerGraph, SoftmaxHeadFollowedByATransposeIsRecordedNotLowered) {
  for (const char* stem : {"channel_softmax_head_opset11", "channel_softmax_head_opset13"}) {
    SCOPED_TRACE(stem);
    const Network net = relutope::load_network(graph_path(std::string(stem) + ".onnx"));
    EXPECT_EQ(net.output_head, "Softmax");
    EXPECT_EQ(net.output_dim(), 2 * 4 * 4);
  }
  EXPECT_EQ(relutope::load_network(graph_path("channel_softmax_head_opset11.onnx")).hidden_widths(),
            relutope::load_network(graph_path("channel_softmax_head_opset13.onnx")).hidden_widths());
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

TEST(GraphExample, DigitsCnnReproducesItsPyTorchLogits) {
  // examples/train_digits_cnn.py stored PyTorch's float64 logits of the 20 images of digits_test.csv.
  const std::string examples = data_path("../../examples/");
  const Eigen::MatrixXd images = relutope::load_points(examples + "digits_test.csv");
  const Eigen::MatrixXd logits = relutope::load_points(examples + "digits_cnn_test_logits.csv");
  const Network net = relutope::load_network(examples + "digits_cnn.onnx");
  ASSERT_EQ(images.rows(), 20);
  ASSERT_EQ(logits.rows(), 20);
  for (Eigen::Index i = 0; i < images.rows(); ++i) {
    const Eigen::VectorXd y = net.evaluate(images.row(i).transpose());
    EXPECT_LE((y - logits.row(i).transpose()).cwiseAbs().maxCoeff(), 1e-10 * std::max(1.0, logits.row(i).cwiseAbs().maxCoeff()))
        << "image " << i;
  }
}

// ---------------------------------------------------------------------------------------------- counts
// Pairs of networks that must have exactly the same regions; the second of each is a plain MLP (or
// a hand-written form) whose count does not go through the graph feature under test.

std::uint64_t count(const Network& net, const relutope::Domain& domain) {
  relutope::EnumerateOptions options;
  options.num_threads = 1;
  return relutope::enumerate_regions(net, domain, options, [](const relutope::Region&) {}).num_regions;
}

std::uint64_t count(const std::string& name, const relutope::Domain& domain) {
  return count(relutope::load_network(graph_path(name)), domain);
}

TEST(GraphCounts, BatchNormFoldedByHandHasTheSameRegionsAsTheUnfoldedExport) {
  const auto box = relutope::Domain::cube(3, -2, 2);
  const std::uint64_t n = count("bn1d_mlp_opset13.onnx", box);
  EXPECT_GT(n, 1u);
  EXPECT_EQ(n, count("bn1d_mlp_folded_by_hand.onnx", box));
}

TEST(GraphCounts, ResidualMlpEqualsTheWiderMlpWhereTheSkipIsPositive) {
  // x + relu(W1 x + b1) = relu(W1 x + b1) + relu(x) for x > 0; relu(x) never breaks in [0.1, 1]^3.
  const auto box = relutope::Domain::cube(3, 0.1, 1);
  const std::uint64_t n = count("residual_mlp_opset13.onnx", box);
  EXPECT_GT(n, 1u);
  EXPECT_EQ(n, count("residual_mlp_as_wider_mlp.onnx", box));
}

TEST(GraphCounts, HardtanhHasTheRegionsOfItsTwoReluForm) {
  const auto box = relutope::Domain::cube(2, -3, 3);
  const std::uint64_t n = count("hardtanh_mlp.onnx", box);
  EXPECT_GT(n, 6u);
  EXPECT_EQ(n, count("hardtanh_by_relus.onnx", box));
}

TEST(GraphCounts, ElementwiseMaxHasTheRegionsOfItsReluForm) {
  // max(a, b) = a + relu(b - a): a Max unit splits where a relu row does, and nowhere else.
  const auto box = relutope::Domain::cube(2, -3, 3);
  const std::uint64_t n = count("max_mlp.onnx", box);
  EXPECT_GT(n, 4u);
  EXPECT_EQ(n, count("max_by_relu.onnx", box));
}

TEST(GraphCounts, AFinalSoftmaxDoesNotChangeTheCount) {
  const auto box = relutope::Domain::cube(2, -2, 2);
  EXPECT_EQ(count("softmax_head_opset13.onnx", box), count("softmax_head_body.onnx", box));
}

TEST(GraphCounts, CnnWithBatchNormNodesEqualsPyTorchsFusedExportOnAPlane) {
  // The plane through three stored inputs: PRESERVE export (BatchNormalization nodes folded by the
  // lowering) against the default export (PyTorch fused them into the Convs).
  const IoSamples io = read_io(graph_path("small_cnn_opset13.io.txt"));
  const relutope::Slice plane = relutope::plane_through(io.inputs[0], io.inputs[1], io.inputs[2]);
  const relutope::Domain triangle = relutope::triangle_domain(plane, io.inputs[0], io.inputs[1], io.inputs[2]);
  const Network ours = relutope::compose(relutope::load_network(graph_path("small_cnn_opset13.onnx")), plane);
  const Network fused = relutope::compose(relutope::load_network(graph_path("small_cnn_fused_opset13.onnx")), plane);
  const std::uint64_t n = count(ours, triangle);
  EXPECT_GT(n, 10u);
  EXPECT_EQ(n, count(fused, triangle));
}

// The joint state of every unit of the graph at x, from the graph's own forward pass (not the
// lowered layers): ReLU rows by sign, clips by side (0 below, 1 between, 2 above), Max windows by
// the lowest index of their largest input.
std::vector<int> unit_states(const Graph& g, const Eigen::VectorXd& x) {
  std::vector<Eigen::MatrixXd> value(g.nodes.size());
  std::vector<int> states;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const relutope::GraphNode& node = g.nodes[i];
    std::vector<const Eigen::MatrixXd*> in;
    for (int j : node.inputs) in.push_back(&value[j]);
    if (node.kind == relutope::OpKind::kInput) value[i] = x;
    else if (node.kind == relutope::OpKind::kConstant) value[i] = node.values;
    else if (relutope::is_affine(node.kind)) value[i] = relutope::apply_affine(node, in);
    else {
      Eigen::VectorXd joined(node.kind == relutope::OpKind::kMax ? 0 : in[0]->rows());
      if (node.kind == relutope::OpKind::kMax) {
        for (const auto* m : in) {
          joined.conservativeResize(joined.size() + m->rows());
          joined.tail(m->rows()) = m->col(0);
        }
        for (std::int64_t u = 0; u < node.rows.num_rows(); ++u) {
          int best = 0;
          for (std::int64_t e = node.rows.start[u]; e < node.rows.start[u + 1]; ++e)
            if (joined[node.rows.index[e]] > joined[node.rows.index[node.rows.start[u] + best]])
              best = static_cast<int>(e - node.rows.start[u]);
          states.push_back(best);
        }
      } else {
        const Eigen::VectorXd z = in[0]->col(0);
        for (Eigen::Index r = 0; r < z.size(); ++r)
          states.push_back(node.kind == relutope::OpKind::kRelu ? z[r] > 0 : (z[r] > node.lo) + (z[r] > node.hi));
      }
      std::vector<Eigen::VectorXd> columns;
      for (const auto* m : in) columns.push_back(m->col(0));
      std::vector<const Eigen::VectorXd*> vin;
      for (const auto& c : columns) vin.push_back(&c);
      value[i] = relutope::apply_unit(node, vin);
    }
  }
  return states;
}

TEST(GraphCounts, CnnPiecesAlongASegmentMatchDenseSamplingOfTheGraph) {
  // Every region meets a segment in one interval, so the pieces are the state changes + 1, as long
  // as no piece is shorter than the sampling step (1e-5 of the segment here).
  const IoSamples io = read_io(graph_path("small_cnn_opset13.io.txt"));
  const Graph graph = relutope::load_graph_onnx(graph_path("small_cnn_opset13.onnx"));
  const relutope::Slice line = relutope::line_through(io.inputs[0], io.inputs[1]);
  const Network on_line = relutope::compose(relutope::lower_to_network(graph), line);
  const std::uint64_t n = count(on_line, relutope::Domain::cube(1, 0, 1));
  std::uint64_t sampled = 1;
  std::vector<int> previous = unit_states(graph, io.inputs[0]);
  const int steps = 100000;
  for (int k = 1; k <= steps; ++k) {
    std::vector<int> states = unit_states(graph, line.to_input(Eigen::VectorXd::Constant(1, double(k) / steps)));
    sampled += states != previous;
    previous = std::move(states);
  }
  EXPECT_GT(n, 10u);
  EXPECT_EQ(n, sampled);
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

TEST(GraphBadModel, AHugeExpandIsRefusedBeforeAllocating) {
  const std::string path = graph_path("bad/huge_expand.onnx");
  EXPECT_THAT([&] { relutope::load_network(path); },
              ThrowsMessage<InputError>(testing::AllOf(HasSubstr("node \"expand_huge\" (Expand)"),
                                                       HasSubstr("[50000, 50000, 4]: more than 16,777,216 values"))));
}

// A head followed by a node that writes the value it reads: the loader followed it forever.
TEST(GraphBadModel, AHeadFollowedByANodeWritingItsOwnInputIsRefused) {
  const std::string path = graph_path("bad/head_cycle.onnx");
  EXPECT_THAT([&] { relutope::load_network(path); },
              ThrowsMessage<InputError>(HasSubstr("node \"softmax\" (Softmax)")));
}

// ONNX graphs write each value once; the loader relies on it and refuses a file that does not.
TEST(GraphBadModel, AValueWrittenTwiceIsRefusedNamingBothWriters) {
  EXPECT_THAT([&] { relutope::load_network(graph_path("bad/value_written_twice.onnx")); },
              ThrowsMessage<InputError>(HasSubstr("node \"neg_b\" (Neg): writes \"h\", which node \"relu_a\" (Relu) writes already")));
  EXPECT_THAT([&] { relutope::load_network(graph_path("bad/initializer_written.onnx")); },
              ThrowsMessage<InputError>(HasSubstr("node \"relu_over_weight\" (Relu): writes \"weight\", which an initializer or a graph input writes already")));
  // The head that looped: its Transpose writes the Softmax's output again.
  EXPECT_THAT([&] { relutope::load_network(graph_path("bad/head_cycle.onnx")); },
              ThrowsMessage<InputError>(HasSubstr("node \"transpose_onto_itself\" (Transpose): writes \"y\", which node \"softmax\" (Softmax)")));
}

TEST(GraphBadModel, ATransposeThatRepeatsAnAxisIsRefused) {
  const std::string path = graph_path("bad/transpose_repeated_axis.onnx");
  EXPECT_THAT([&] { relutope::load_network(path); },
              ThrowsMessage<InputError>(HasSubstr("node \"transpose_repeated\" (Transpose): perm [1, 1] is not a permutation")));
}

}  // namespace
