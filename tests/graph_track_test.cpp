#include "detail/graph_track.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

#include "relutope/graph.h"
#include "relutope/slice.h"

namespace relutope {
namespace {

const std::string kData = std::string(RELUTOPE_TEST_DATA_DIR) + "/segment/";

bool bit_identical(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<std::size_t>(a.size())) == 0;
}

// Random states for unit u: ReLU values passing or on their slope, clip values at either bound or
// passing, Max windows taking any of their inputs.
void random_states(const GraphNode& node, std::vector<std::int64_t>& state, std::int64_t rows, double change,
                   std::mt19937_64& rng) {
  std::uniform_real_distribution<double> uniform;
  const bool max = node.kind == OpKind::kMax;
  const std::int64_t n = max ? node.rows.num_rows() : rows;
  if (static_cast<std::int64_t>(state.size()) != n) {
    state.assign(n, 0);
    change = 1;
  }
  for (std::int64_t i = 0; i < n; ++i) {
    if (uniform(rng) >= change) continue;
    if (max) {
      const std::int64_t k = node.rows.start[i + 1] - node.rows.start[i];
      state[i] = node.rows.index[node.rows.start[i] + static_cast<std::int64_t>(uniform(rng) * k)];
    } else if (node.kind == OpKind::kClip) {
      state[i] = std::vector<std::int64_t>{detail::GraphTrack::kPass, detail::GraphTrack::kAtLow,
                                           detail::GraphTrack::kAtHigh}[static_cast<int>(uniform(rng) * 3)];
    } else {
      state[i] = uniform(rng) < 0.5 ? detail::GraphTrack::kPass : detail::GraphTrack::kSlope;
    }
  }
}

// Walks the units in order with the given states, as the walks do.
void forward(const Graph& graph, const std::vector<int>& units, const std::vector<std::vector<std::int64_t>>& states,
             std::size_t from, detail::GraphTrack& track) {
  for (std::size_t k = from; k < units.size(); ++k) {
    const int u = units[k];
    track.compute_affine(k == 0 ? 0 : units[k - 1] + 1, u);
    if (graph.nodes[u].kind == OpKind::kMax) track.stack_inputs(u);
    track.state(u) = states[k];
    track.apply_unit(u);
  }
}

// compute_affine recomputes only what changed since it last ran (a convolution at the positions that
// read a changed value): the values and bounds must be bit for bit those of a track computing everything
// afresh, after any sequence of state changes at any depth, as the depth-first walks make them.
TEST(GraphTrack, RecomputingWhatChangedGivesTheBitsOfRecomputingEverything) {
  const Graph graph = load_graph_onnx(kData + "cnn_residual.onnx");
  const detail::WalkPrepared prepared(graph);
  const std::vector<int>& units = prepared.units;
  const Eigen::MatrixXd points = load_points(kData + "points.npy");
  const Eigen::Index d = graph.input_dim();
  Eigen::MatrixXd hi(d, 3), lo = Eigen::MatrixXd::Zero(d, 3);
  hi.col(0) = points.row(0).head(d).transpose();
  hi.col(1) = (points.row(1) - points.row(0)).head(d).transpose();
  hi.col(2) = (points.row(2) - points.row(0)).head(d).transpose();
  std::mt19937_64 rng(21);
  detail::GraphTrack track(graph, prepared, 3, true);
  track.set_input(hi, lo);
  std::vector<std::vector<std::int64_t>> states(units.size());
  for (std::size_t k = 0; k < units.size(); ++k) {
    const GraphNode& node = graph.nodes[units[k]];
    random_states(node, states[k], graph.nodes[node.inputs[0]].size(), 1, rng);
  }
  forward(graph, units, states, 0, track);
  std::int64_t partial = 0;
  for (int round = 0; round < 40; ++round) {
    // A few states change at one depth (and, below it, a few more), then everything below is redone.
    const std::size_t from = static_cast<std::size_t>(rng() % units.size());
    for (std::size_t k = from; k < units.size(); ++k) {
      const GraphNode& node = graph.nodes[units[k]];
      random_states(node, states[k], graph.nodes[node.inputs[0]].size(), k == from ? 0.02 : 0.005, rng);
    }
    forward(graph, units, states, from, track);
    detail::GraphTrack fresh(graph, prepared, 3, true);
    fresh.set_input(hi, lo);
    forward(graph, units, states, 0, fresh);
    SCOPED_TRACE("round " + std::to_string(round) + ", from unit " + std::to_string(from));
    for (int i = 0; i < units.back(); ++i) {
      if (graph.nodes[i].kind == OpKind::kConstant) continue;
      ASSERT_TRUE(bit_identical(track.value(i).hi, fresh.value(i).hi)) << "node " << i;
      ASSERT_TRUE(bit_identical(track.value(i).lo, fresh.value(i).lo)) << "node " << i;
      ASSERT_TRUE(bit_identical(track.error(i), fresh.error(i))) << "node " << i;
    }
    partial += from + 1 < units.size();
  }
  EXPECT_GT(partial, 20) << "most rounds must change states above the last unit";
}

}  // namespace
}  // namespace relutope
