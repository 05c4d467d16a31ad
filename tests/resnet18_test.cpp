// torchvision's ResNet-18 as PyTorch exports it: made at test time by tests/resnet18/make_resnet18.py
// (ctest graph.resnet18.make), then loaded here (ctest graph.resnet18.matches_torch, which sets
// RELUTOPE_RESNET18_DIR). Skipped when run without it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "relutope/error.h"
#include "relutope/graph.h"
#include "relutope/slice.h"

namespace relutope {
namespace {

TEST(ResNet18, ForwardPassReproducesPyTorch) {
  const char* dir = std::getenv("RELUTOPE_RESNET18_DIR");
  if (!dir) GTEST_SKIP() << "run through ctest graph.resnet18.matches_torch";
  const std::string base = std::string(dir) + "/";
  const Eigen::MatrixXd images = load_points(base + "two_images.npy");
  const Eigen::MatrixXd expected64 = load_points(base + "outputs64.npy");
  const Eigen::MatrixXd expected32 = load_points(base + "outputs32.npy");
  // As exported by default (BatchNorm folded into the Convs in float32): against PyTorch in float32.
  const Graph graph = load_graph_onnx(base + "resnet18.onnx");
  ASSERT_EQ(graph.input_dim(), 3 * 224 * 224);
  ASSERT_EQ(graph.output_dim(), 1000);
  // With the BatchNormalization nodes kept, the weights are PyTorch's own: against it in float64,
  // where only the order of the sums differs.
  const Graph unfolded = load_graph_onnx(base + "resnet18_bn.onnx");
  for (Eigen::Index i = 0; i < images.rows(); ++i) {
    const Eigen::VectorXd x = images.row(i).transpose();
    const Eigen::VectorXd y64 = expected64.row(i).transpose(), y32 = expected32.row(i).transpose();
    EXPECT_LT((graph.evaluate(x) - y32).norm(), 1e-4 * y32.norm()) << "image " << i;
    EXPECT_LT((unfolded.evaluate(x) - y64).norm(), 1e-10 * y64.norm()) << "image " << i;
  }
  // Far too large for dense layers: refused before allocating, not a bad_alloc.
  EXPECT_THROW(lower_to_network(graph), InputError);
}

}  // namespace
}  // namespace relutope
