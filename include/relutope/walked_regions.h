#pragma once
// The regions a walk through a graph finds (regions_on_plane, pieces_on_segment with a collector),
// kept for exports and the neuron report: each region's cell in the walk's coordinates, its output
// map, and its activation pattern as the pattern entries where it differs from the first region's.
// Graphs as large as ResNet-18 have millions of pattern entries, so a full pattern per region would
// make every record megabytes long; the regions of a small domain differ in a few units each.
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "relutope/graph.h"
#include "relutope/region.h"

namespace relutope {

/// The layout of a graph's activation pattern: the same entries, in the same order, as the pattern of
/// lower_to_network(graph) (relutope/region.h), without lowering the graph. Each unit node with at
/// least one entry is one layer ('|' in the text): a ReLU-family value has an entry unless its slope
/// is exactly 1 (0 below zero, 1 above), a clip value has one (two-sided: 0 at the lower bound, 1
/// between, 2 at the upper; one-sided: 0 at its bound, 1 off it), a Max window of k >= 2 inputs has
/// one (the index 0..k-1 of its largest input within the window).
class GraphPattern {
 public:
  /// One layer of the pattern.
  struct Layer {
    int node = 0;                        ///< the unit node (index into Graph::nodes)
    std::int64_t first = 0;              ///< its first pattern entry
    std::vector<std::int64_t> elements;  ///< the node's output elements with an entry, in order
  };
  explicit GraphPattern(const Graph& graph);
  /// Pattern entries in all.
  std::int64_t num_entries() const { return num_entries_; }
  const std::vector<Layer>& layers() const { return layers_; }
  /// The entry of element `element` of unit node `node`, or -1 if it has none.
  std::int64_t entry(int node, std::int64_t element) const;
  /// The layer (index into layers()) and node element of pattern entry `entry`.
  std::pair<int, std::int64_t> locate(std::int64_t entry) const;
  /// The pattern as text, exactly as pattern_string(pattern, lower_to_network(graph)) writes it.
  std::string text(const ActivationPattern& pattern) const;

 private:
  const Graph* graph_;
  std::vector<Layer> layers_;
  std::vector<int> layer_of_node_;                  // -1 for nodes that are no layer
  std::vector<std::vector<std::int64_t>> entry_;    // per layer: per node element, its entry or -1
  std::int64_t num_entries_ = 0;
};

/// A pattern entry and its state: where a region's pattern differs from WalkedRegions::reference.
struct PatternChange {
  std::int64_t entry = 0;
  std::uint8_t state = 0;
  bool operator==(const PatternChange& o) const { return entry == o.entry && state == o.state; }
};

/// One region a walk found.
struct WalkedRegion {
  /// On a plane: the polygon's vertices in the walk's coordinates (s, t), counter-clockwise.
  std::vector<Eigen::Vector2d> polygon;
  /// On a segment: the piece t_begin <= t <= t_end.
  double t_begin = 0, t_end = 0;
  /// The pattern entries whose state differs from WalkedRegions::reference, by increasing entry.
  std::vector<PatternChange> changes;
  /// The network's output on the region, affine in the walk's coordinates: output = output.col(0) +
  /// output.col(1) s + output.col(2) t on a plane, output.col(0) + output.col(1) t on a segment
  /// (the walk's double-double values rounded to doubles).
  Eigen::MatrixXd output;
};

/// Every region a walk found, in increasing order of activation pattern (as enumerate_regions visits
/// them: lexicographic, inactive before active), so the same for any number of threads.
struct WalkedRegions {
  /// The full pattern of regions[0] (GraphPattern layout); the other regions' patterns are given by
  /// their changes against it.
  ActivationPattern reference;
  std::vector<WalkedRegion> regions;

  /// The full pattern of region i.
  ActivationPattern pattern(std::size_t i) const;
};

}  // namespace relutope
