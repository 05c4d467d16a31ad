// auto_pad on Conv, MaxPool and AveragePool (SAME_UPPER, SAME_LOWER, VALID), which torch.onnx.export
// never writes but other exporters do. The truth is the ONNX spec computed by plain float64 loops in
// tests/data/graph/make_auto_pad_models.py, which also wrote the models.
#include <gtest/gtest.h>

#include <string>

#include "relutope/graph.h"
#include "relutope/io.h"
#include "relutope/network.h"
#include "support/data_path.h"
#include "support/io_samples.h"

namespace {

class AutoPad : public testing::TestWithParam<std::string> {};

TEST_P(AutoPad, GraphAndLoweredNetworkReproduceTheSpec) {
  const std::string stem = GetParam();
  const IoSamples io = read_io(data_path("graph/" + stem + ".io.txt"));
  ASSERT_EQ(io.inputs.size(), 20u);
  const relutope::Graph graph = relutope::load_graph_onnx(data_path("graph/" + stem + ".onnx"));
  const relutope::Network net = relutope::load_network(data_path("graph/" + stem + ".onnx"));
  ASSERT_EQ(graph.output_dim(), io.output_dim);
  ASSERT_EQ(net.output_dim(), io.output_dim);
  for (std::size_t s = 0; s < io.inputs.size(); ++s) {
    const double scale = std::max(1.0, io.outputs[s].cwiseAbs().maxCoeff());
    EXPECT_LE((graph.evaluate(io.inputs[s]) - io.outputs[s]).cwiseAbs().maxCoeff(), 1e-12 * scale) << s;
    EXPECT_LE((net.evaluate(io.inputs[s]) - io.outputs[s]).cwiseAbs().maxCoeff(), 1e-12 * scale) << s;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, AutoPad,
                         testing::Values("auto_pad_same_upper", "auto_pad_same_lower", "auto_pad_valid"));

}  // namespace
