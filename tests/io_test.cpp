// Model loading: ONNX exports from PyTorch, the JSON format, and the messages for bad files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "io/json_file.h"
#include "relutope/error.h"
#include "relutope/graph.h"
#include "relutope/io.h"
#include "relutope/network.h"
#include "support/data_path.h"
#include "support/io_samples.h"

namespace {

using relutope::Activation;
using relutope::InputError;
using relutope::Network;
using testing::AllOfArray;
using testing::HasSubstr;
using testing::Matcher;
using testing::ThrowsMessage;

// Checks that `net` maps every stored input to the stored PyTorch output, to 1e-5 absolute.
void expect_reproduces_io(const Network& net, const std::string& io_name) {
  const IoSamples io = read_io(data_path(io_name));
  ASSERT_EQ(io.inputs.size(), 20u) << io_name;
  ASSERT_EQ(net.input_dim(), io.input_dim);
  ASSERT_EQ(net.output_dim(), io.output_dim);
  for (std::size_t s = 0; s < io.inputs.size(); ++s) {
    const Eigen::VectorXd y = net.evaluate(io.inputs[s]);
    ASSERT_EQ(y.size(), io.output_dim);
    for (int i = 0; i < io.output_dim; ++i)
      EXPECT_NEAR(y[i], io.outputs[s][i], 1e-5) << io_name << ": sample " << s << ", output " << i;
  }
}

std::vector<Activation> activations(const Network& net) {
  std::vector<Activation> out;
  for (const auto& layer : net.layers) out.push_back(layer.activation);
  return out;
}

std::function<void()> loading(const std::string& path) {
  return [path] { relutope::load_network(path); };
}

// An InputError whose message names `path` and contains every one of `parts`.
Matcher<std::function<void()>> ThrowsInputErrorNaming(const std::string& path, const std::vector<std::string>& parts) {
  std::vector<Matcher<std::string>> all{HasSubstr(path)};
  for (const auto& part : parts) all.push_back(HasSubstr(part));
  return ThrowsMessage<InputError>(AllOfArray(all));
}

// ---------------------------------------------------------------------------------------------- ONNX

TEST(LoadOnnx, ReproducesPyTorchOutputsOfTheOpset11GemmExport) {
  const Network net = relutope::load_network(data_path("torch_mlp_opset11.onnx"));
  expect_reproduces_io(net, "torch_mlp_opset11.io.txt");
}

TEST(LoadOnnx, ReadsTheOpset11ShapesAndTheLeakyReluSlope) {
  const Network net = relutope::load_network(data_path("torch_mlp_opset11.onnx"));
  EXPECT_EQ(net.input_dim(), 3);
  EXPECT_EQ(net.output_dim(), 2);
  EXPECT_EQ(net.hidden_widths(), (std::vector<int>{8, 8}));
  EXPECT_EQ(net.num_neurons(), 16);
  ASSERT_EQ(activations(net), (std::vector<Activation>{Activation::kRelu, Activation::kLeakyRelu, Activation::kNone}));
  ASSERT_EQ(net.layers[1].negative_slope.size(), 1);
  EXPECT_NEAR(net.layers[1].negative_slope[0], 0.1, 1e-6);
  EXPECT_NE(net.source.find("torch_mlp_opset11.onnx"), std::string::npos);
  EXPECT_FALSE(net.default_domain.has_value());
}

TEST(LoadOnnx, ReproducesPyTorchOutputsOfTheOpset17FlattenPReluExport) {
  const Network net = relutope::load_network(data_path("torch_mlp_opset17.onnx"));
  expect_reproduces_io(net, "torch_mlp_opset17.io.txt");
}

TEST(LoadOnnx, ReadsTheOpset17ShapesAndSixDistinctPReluSlopes) {
  const Network net = relutope::load_network(data_path("torch_mlp_opset17.onnx"));
  EXPECT_EQ(net.input_dim(), 4);  // the (2,2) input, flattened
  EXPECT_EQ(net.output_dim(), 3);
  EXPECT_EQ(net.hidden_widths(), (std::vector<int>{6, 6}));
  ASSERT_EQ(activations(net), (std::vector<Activation>{Activation::kRelu, Activation::kPRelu, Activation::kNone}));
  const Eigen::VectorXd& slopes = net.layers[1].negative_slope;
  ASSERT_EQ(slopes.size(), 6);
  const double expected[] = {0.05, 0.10, 0.15, 0.20, 0.25, 0.30};
  for (int i = 0; i < 6; ++i) {
    EXPECT_NEAR(slopes[i], expected[i], 1e-6) << "slope " << i;
    EXPECT_NEAR(net.layers[1].slope_below(i), expected[i], 1e-6) << "slope_below(" << i << ")";
  }
}

TEST(LoadOnnx, ReproducesPyTorchOutputsOfTheMatMulAddExport) {
  const Network net = relutope::load_network(data_path("torch_mlp_matmul.onnx"));
  expect_reproduces_io(net, "torch_mlp_matmul.io.txt");
}

TEST(LoadOnnx, ComposesMatMulAndAddIntoOneLayerPerActivation) {
  const Network net = relutope::load_network(data_path("torch_mlp_matmul.onnx"));
  EXPECT_EQ(net.input_dim(), 2);
  EXPECT_EQ(net.output_dim(), 1);
  EXPECT_EQ(net.hidden_widths(), (std::vector<int>{5, 5}));
  EXPECT_EQ(activations(net), (std::vector<Activation>{Activation::kRelu, Activation::kRelu, Activation::kNone}));
}

TEST(LoadOnnx, HandlesConstantNodesReshapeAndGemmAlphaBetaWithoutTranspose) {
  const relutope::Network net = relutope::load_network(data_path("onnx_edge_cases.onnx"));
  EXPECT_EQ(net.input_dim(), 4);
  EXPECT_EQ(net.hidden_widths(), std::vector<int>{3});
  expect_reproduces_io(net, "onnx_edge_cases.io.txt");
}

TEST(LoadOnnx, LoadsTheTwoMoonsExample) {
  const Network net = relutope::load_network(RELUTOPE_TEST_DATA_DIR "/../../examples/two_moons.onnx");
  EXPECT_EQ(net.input_dim(), 2);
  EXPECT_EQ(net.hidden_widths(), (std::vector<int>{16, 16, 16}));
  EXPECT_EQ(net.num_neurons(), 48);
  EXPECT_EQ(net.output_dim(), 1);
  EXPECT_EQ(net.layers.back().activation, Activation::kNone);
}

// Issue 8, defect 5: onnx.save_model(..., save_as_external_data=True) said "has 0 values".
TEST(Issue8OnnxExternalData, ReproducesPyTorchOutputsFromTheDataFileBesideTheModel) {
  const Network net = relutope::load_network(data_path("external/mlp_external.onnx"));
  EXPECT_EQ(net.hidden_widths(), (std::vector<int>{8, 8}));
  expect_reproduces_io(net, "external/mlp_external.io.txt");
}

TEST(Issue8OnnxExternalData, NamesTheMissingDataFile) {
  const std::string path = data_path("bad/external_missing.onnx");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"tensor \"0.weight\"", "external data file \"external_missing.onnx.data\" not found"}));
}

TEST(Issue8OnnxExternalData, RefusesALocationOutsideTheModelsFolder) {
  // The file it names exists (tests/data/external/mlp_external.onnx.data), but is not beside the model.
  const std::string escape = data_path("bad/external_escape.onnx");
  EXPECT_THAT(loading(escape), ThrowsInputErrorNaming(escape, {"\"../external/mlp_external.onnx.data\" leaves the model's folder"}));
  const std::string absolute = data_path("bad/external_absolute.onnx");
  EXPECT_THAT(loading(absolute), ThrowsInputErrorNaming(absolute, {"\"/tmp/mlp_external.onnx.data\" leaves the model's folder"}));
}

TEST(Issue8OnnxExternalData, RefusesASymbolicLinkThatLeavesTheFolder) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(testing::TempDir()) / "relutope_external_link";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(data_path("external/mlp_external.onnx"), dir / "mlp_external.onnx");
  fs::create_symlink(fs::absolute(data_path("external/mlp_external.onnx.data")), dir / "mlp_external.onnx.data");
  const std::string path = (dir / "mlp_external.onnx").string();
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"tensor \"0.weight\"", "outside the model's folder"}));
  fs::remove(dir / "mlp_external.onnx.data");
  fs::copy_file(data_path("external/mlp_external.onnx.data"), dir / "mlp_external.onnx.data");
  EXPECT_EQ(relutope::load_network(path).hidden_widths(), (std::vector<int>{8, 8}));  // a copy is fine
}

TEST(Issue8OnnxExternalData, ChecksOffsetAndLengthAgainstTheFileSize) {
  const std::string truncated = data_path("bad/external_truncated.onnx");
  EXPECT_THAT(loading(truncated), ThrowsInputErrorNaming(truncated, {"tensor \"2.weight\"", "external_truncated.onnx.data\" (244 bytes), past its end"}));
  const std::string huge = data_path("bad/huge_external.onnx");
  EXPECT_THAT(loading(huge), ThrowsInputErrorNaming(huge, {"tensor \"2.weight\"", "0 + 40,000,000,000", "(256 bytes), past its end"}));
}

// Issue 8, defect 6: training-mode Dropout and float16 said "data type 9/10 is not supported".
TEST(Issue8OnnxDropout, TrainingModeIsRefusedWithWhatToDo) {
  for (const char* name : {"bad/dropout_training_opset13.onnx", "bad/dropout_training_opset17.onnx"}) {
    const std::string path = data_path(name);
    EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"node \"/2/Dropout\" (Dropout): Dropout in training mode", "model.eval()"}));
  }
}

TEST(Issue8OnnxDropout, TrainingModeFalseIsTheIdentity) {
  const Network net = relutope::load_network(data_path("dropout_mode_false.onnx"));
  EXPECT_EQ(net.hidden_widths(), (std::vector<int>{4}));
  expect_reproduces_io(net, "dropout_mode_false.io.txt");
}

TEST(Issue8OnnxDataTypes, Float16WeightsLoadExactly) {
  const Network net = relutope::load_network(data_path("mlp_float16.onnx"));
  EXPECT_EQ(net.hidden_widths(), (std::vector<int>{8, 8}));
  expect_reproduces_io(net, "mlp_float16.io.txt");  // float16 weights evaluated in float64 by numpy
}

TEST(Issue8OnnxDataTypes, UnsupportedTypesAreNamedNotNumbered) {
  const std::string path = data_path("bad/complex_weight.onnx");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"tensor \"2.weight\": data type COMPLEX64 (data type 14) is not supported"}));
}

// Issue 8, resource limits: sizes are checked against the data present before anything is allocated.
TEST(Issue8OnnxSizes, DimensionsWhoseProductOverflowsAreAnError) {
  const std::string path = data_path("bad/dims_overflow.onnx");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"tensor \"2.weight\"", "[8589934592, 8589934592]", "overflows"}));
}

TEST(Issue8OnnxSizes, DeclaredGigabytesThatAreNotThereAreAnError) {
  const std::string path = data_path("bad/huge_declared.onnx");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"tensor \"2.weight\"", "raw data has 64 bytes, expected 40,000,000,000"}));
}

TEST(Issue8OnnxSizes, NegativeDimensionIsAnError) {
  const std::string path = data_path("bad/negative_dim.onnx");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"tensor \"2.weight\": dimension 1 is -8"}));
}

TEST(Issue8OnnxSizes, AHugeInputIsNotAHugeIdentityMatrix) {
  // This threw std::bad_alloc: the loader began with a 200,000 x 200,000 identity.
  const std::string path = data_path("bad/huge_input.onnx");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"node \"/0/Gemm\"", "expected 200000 inputs", "got 3"}));
}

TEST(Issue8OnnxSizes, ABiasThatBroadcastsAcrossTheBatchIsNotReadAsPerFeature) {
  // b.0 of shape [5, 1]: (batch, 5) + (5, 1) is a (5, 5) value; it was read as the bias [5] (18 regions, exit 0).
  const std::string path = data_path("bad/bias_across_batch.onnx");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"constant \"b.0\": shape [5, 1] does not act per feature"}));
}

// Issue 9: a smooth head after the last affine layer is accepted and recorded; the layers are the body's.
TEST(Issue9OutputHead, SigmoidTanhLogSoftmaxAndSoftmaxHeadsAreRecorded) {
  for (const std::string op : {"Sigmoid", "Tanh", "LogSoftmax", "Softmax"}) {
    const std::string name = op == "Sigmoid" ? "sigmoid_head" : op == "Tanh" ? "tanh_head" : op == "Softmax" ? "softmax_head" : "log_softmax_head";
    const Network net = relutope::load_network(data_path(name + ".onnx"));
    EXPECT_EQ(net.output_head, op) << name;
    EXPECT_EQ(activations(net), (std::vector<Activation>{Activation::kRelu, Activation::kNone})) << name;
    EXPECT_EQ(net.output_dim(), 3) << name;
  }
}

TEST(Issue8OutputHead, HiddenSigmoidIsStillNotPiecewiseLinear) {
  const std::string path = data_path("bad/sigmoid.onnx");
  EXPECT_THAT(loading(path), ThrowsMessage<InputError>(testing::Not(HasSubstr("output head"))));
}

// ---------------------------------------------------------------------------------------------- JSON

TEST(LoadJson, GivesTheSameNetworkAsTheOnnxExport) {
  const Network from_json = relutope::load_network(data_path("torch_mlp_opset11.json"));
  const Network from_onnx = relutope::load_network(data_path("torch_mlp_opset11.onnx"));
  ASSERT_EQ(from_json.layers.size(), from_onnx.layers.size());
  for (std::size_t l = 0; l < from_json.layers.size(); ++l) {
    SCOPED_TRACE("layers[" + std::to_string(l) + "]");
    const auto& a = from_json.layers[l];
    const auto& b = from_onnx.layers[l];
    EXPECT_EQ(a.activation, b.activation);
    ASSERT_EQ(a.weight.rows(), b.weight.rows());
    ASSERT_EQ(a.weight.cols(), b.weight.cols());
    ASSERT_EQ(a.bias.size(), b.bias.size());
    ASSERT_EQ(a.negative_slope.size(), b.negative_slope.size());
    EXPECT_LE((a.weight - b.weight).cwiseAbs().maxCoeff(), 1e-6);
    EXPECT_LE((a.bias - b.bias).cwiseAbs().maxCoeff(), 1e-6);
    if (a.negative_slope.size() > 0) {
      EXPECT_LE((a.negative_slope - b.negative_slope).cwiseAbs().maxCoeff(), 1e-6);
    }
  }
  expect_reproduces_io(from_json, "torch_mlp_opset11.io.txt");
}

TEST(LoadJson, ReadsTheDomainAsTheDefaultDomain) {
  const Network net = relutope::load_network(data_path("tiny_2d.json"));
  EXPECT_EQ(net.input_dim(), 2);
  EXPECT_EQ(net.hidden_widths(), (std::vector<int>{2}));
  ASSERT_TRUE(net.default_domain.has_value());
  EXPECT_EQ(net.default_domain->lo, Eigen::Vector2d(-1, -1));
  EXPECT_EQ(net.default_domain->hi, Eigen::Vector2d(1, 1));
  EXPECT_TRUE(net.default_domain->is_box());
  EXPECT_EQ(net.default_domain->describe(), "[-1,1]^2");
}

TEST(LoadJson, HasNoDefaultDomainWhenTheFileGivesNone) {
  EXPECT_FALSE(relutope::load_network(data_path("torch_mlp_opset11.json")).default_domain.has_value());
}

TEST(LoadJson, EvaluatesTheHandCheckableOneDimensionalNetwork) {
  const Network net = relutope::load_network(data_path("one_layer_1d.json"));
  // f(x) = relu(x+0.5) - 2 relu(x) + relu(x-0.5): a hat of height 0.5 on [-0.5, 0.5].
  const double xs[] = {-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0};
  const double fs[] = {0.0, 0.0, 0.25, 0.5, 0.25, 0.0, 0.0};
  for (int i = 0; i < 7; ++i) EXPECT_DOUBLE_EQ(net.evaluate(Eigen::VectorXd::Constant(1, xs[i]))[0], fs[i]) << "x = " << xs[i];
}

// ---------------------------------------------------------------------------------------------- bad files

TEST(LoadBadFile, TruncatedOnnxIsNotAValidOnnxModel) {
  const std::string path = data_path("bad/truncated.onnx");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"not a valid ONNX model"}));
}

TEST(LoadBadFile, TextFileNamedOnnxIsNotAValidOnnxModel) {
  const std::string path = data_path("bad/not_onnx.onnx");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"not a valid ONNX model"}));
}

TEST(LoadBadFile, SigmoidOnnxNamesTheNodeAndSaysItIsNotPiecewiseLinear) {
  const std::string path = data_path("bad/sigmoid.onnx");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"node \"/1/Sigmoid\"", "Sigmoid", "not piecewise linear"}));
}

// Issue 9: y = l2(relu(l1(x))) + l3(x) was refused ("the graph branches"); x is now carried past the
// ReLU layer as rows of slope 1, and the network computes the same function as the graph.
TEST(Issue9SkipConnection, TheInputIsCarriedPastTheReluLayer) {
  const Network net = relutope::load_network(data_path("skip_connection.onnx"));
  ASSERT_EQ(activations(net), (std::vector<Activation>{Activation::kPRelu, Activation::kNone}));
  const relutope::Graph graph = relutope::load_graph_onnx(data_path("skip_connection.onnx"));
  for (double a : {-1.0, -0.3, 0.2, 0.9}) {
    const Eigen::Vector2d x(a, 0.7 - a);
    EXPECT_LE((net.evaluate(x) - graph.evaluate(x)).cwiseAbs().maxCoeff(), 1e-12);
  }
}

TEST(LoadBadFile, NanWeightOnnxNamesTheInitializer) {
  const std::string path = data_path("bad/nan_weight.onnx");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"NaN", "\"2.weight\""}));
}

TEST(LoadBadFile, InfBiasOnnxNamesTheInitializer) {
  const std::string path = data_path("bad/inf_bias.onnx");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"infinite", "\"2.bias\""}));
}

TEST(LoadBadFile, WeightShapeJsonNamesTheWeightAndBothShapes) {
  const std::string path = data_path("bad/weight_shape.json");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"layers[1].weight", "expected 2x3", "got 2x2"}));
}

TEST(LoadBadFile, BiasLengthJsonNamesTheBias) {
  const std::string path = data_path("bad/bias_length.json");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"layers[1].bias", "expected 2 entries, got 3"}));
}

TEST(LoadBadFile, InfWeightJsonNamesTheOverflowingNumber) {
  const std::string path = data_path("bad/inf_weight.json");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"1e999", "too large"}));
}

TEST(LoadBadFile, StringWeightJsonNamesTheEntry) {
  const std::string path = data_path("bad/string_weight.json");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"layers[1].weight[0][1]", "expected a number", "\"abc\""}));
}

TEST(LoadBadFile, SigmoidActivationJsonNamesTheField) {
  const std::string path = data_path("bad/unknown_activation.json");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"layers[0].activation", "\"sigmoid\"", "not piecewise linear"}));
}

TEST(LoadBadFile, TruncatedJsonGivesTheLine) {
  const std::string path = data_path("bad/truncated.json");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"truncated.json:15:", "not valid JSON"}));
}

TEST(LoadBadFile, EmptyLayersJsonSaysThereIsNoLayer) {
  const std::string path = data_path("bad/no_layers.json");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"layers", "at least one layer"}));
}

// Issue 8, defect 1: each of these loaded before as another network, with exit 0.
TEST(Issue8StrictJson, MissingActivationIsAnErrorNotAnAffineLayer) {
  const std::string path = data_path("bad/missing_activation.json");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"layers[0]: missing key \"activation\"", "relu, leaky_relu, prelu, max or none"}));
}

TEST(Issue8StrictJson, MisspeltActivationKeyIsNamedWithTheKeyItMeant) {
  const std::string path = data_path("bad/misspelt_activation_key.json");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"layers[1]: unknown key \"activaton\" (did you mean \"activation\"?)",
                                                           "allowed keys: weight, bias, activation, negative_slope"}));
  // one problem, one line: the misspelt key is not reported again as a missing "activation"
  EXPECT_THAT(loading(path), ThrowsMessage<InputError>(testing::Not(HasSubstr("missing key"))));
}

TEST(Issue8StrictJson, SlopeKeySuggestsNegativeSlope) {
  const std::string path = data_path("bad/slope_key.json");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"layers[1]: unknown key \"slope\" (did you mean \"negative_slope\"?)"}));
}

TEST(Issue8StrictJson, UnknownTopLevelKeyIsAnError) {
  const std::string path = data_path("bad/unknown_top_key.json");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"top level: unknown key \"domian\" (did you mean \"domain\"?)",
                                                           "allowed keys: layers, domain"}));
}

TEST(Issue8StrictJson, NegativeSlopeOnAReluLayerIsAnError) {
  const std::string path = data_path("bad/relu_with_slope.json");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"layers[0].negative_slope", "only leaky_relu and prelu"}));
}

TEST(Issue8StrictJson, RepeatedKeyIsAnErrorNamingTheObject) {
  const std::string path = data_path("bad/duplicate_key.json");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"layers[1]: key \"activation\" appears twice"}));
}

// A smooth head on the last layer is accepted and left out, as from ONNX (issue 9): the regions are
// those of the logits: the last layer is affine. In a hidden layer it is still refused.
TEST(Issue8StrictJson, SoftmaxOnTheLastLayerIsAnOutputHead) {
  const Network net = relutope::load_network(data_path("softmax_head.json"));
  EXPECT_EQ(net.output_head, "Softmax");
  EXPECT_EQ(net.layers.back().activation, relutope::Activation::kNone);
  ASSERT_EQ(net.layers.size(), 3u);
  EXPECT_EQ(net.layers.back().weight, (Eigen::MatrixXd{{1, -1}}));
  const std::string path = testing::TempDir() + "relutope_hidden_softmax.json";
  std::ofstream(path) << R"({"layers": [{"weight": [[1]], "bias": [0], "activation": "softmax"},
                                        {"weight": [[1]], "bias": [0], "activation": "none"}]})";
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"layers[0].activation", "not piecewise linear"}));
}

TEST(Issue8StrictJson, MisspeltActivationValueSuggestsTheName) {
  const std::string path = testing::TempDir() + "relutope_ReLU.json";
  std::ofstream(path) << R"({"layers": [{"weight": [[1]], "bias": [0], "activation": "ReLU"},
                                        {"weight": [[1]], "bias": [0], "activation": "none"}]})";
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"layers[0].activation", "unknown activation \"ReLU\" (did you mean \"relu\"?)"}));
}

TEST(Issue8StrictJson, ClosestKeyNeedsACloseSpelling) {
  using relutope::detail::closest_key;
  const std::vector<std::string> layer = {"weight", "bias", "activation", "negative_slope"};
  EXPECT_EQ(closest_key("weights", layer), "weight");
  EXPECT_EQ(closest_key("bais", layer), "bias");         // a swap of two letters is one edit
  EXPECT_EQ(closest_key("Activation", layer), "activation");
  EXPECT_EQ(closest_key("negative", layer), "negative_slope");
  EXPECT_EQ(closest_key("colour", layer), "");
  EXPECT_EQ(closest_key("a", {"A", "b"}), "A");         // one letter: only case may differ
  EXPECT_EQ(closest_key("c", {"A", "b"}), "");
}

TEST(LoadBadFile, MissingFileCannotBeOpened) {
  const std::string path = data_path("no_such_model.onnx");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"cannot open"}));
}

TEST(LoadBadFile, UnknownExtensionIsAnUnknownModelFormat) {
  const std::string path = data_path("README.md");
  EXPECT_THAT(loading(path), ThrowsInputErrorNaming(path, {"unknown model format", ".onnx or .json"}));
}

}  // namespace
