#pragma once
// Collecting the regions of a walk (WalkedRegions, relutope/walked_regions.h) from the walkers'
// threads: each region's pattern is read off the walker's unit states and kept as its differences
// from the first region any thread finished; finish() sorts the regions by pattern and rebases the
// differences on the lowest pattern, so that the result does not depend on the thread count.
// Private to src/.
#include <cstdint>
#include <mutex>
#include <vector>

#include "detail/graph_track.h"
#include "relutope/walked_regions.h"

namespace relutope::detail {

class RegionCollector {
 public:
  /// @param out  where finish() puts the regions (not owned)
  RegionCollector(const Graph& graph, WalkedRegions& out);

  /// A region read off `track` (every unit in its state on the region), with its differences from
  /// the collector's first pattern; thread-safe. `region.changes` is filled here.
  WalkedRegion make(const GraphTrack& track, WalkedRegion region);
  /// Keeps a region from make(); thread-safe.
  void keep(WalkedRegion region);
  /// Sorts the kept regions by pattern and rebases them on the lowest (WalkedRegions::reference).
  void finish();

  /// The output family of `track` (every node up to the output computed), rounded to doubles.
  static Eigen::MatrixXd output_of(const Graph& graph, GraphTrack& track);

 private:
  const Graph& graph_;
  GraphPattern layout_;
  WalkedRegions& out_;
  std::mutex lock_;
  ActivationPattern first_;  // the pattern the kept changes are against
  bool has_first_ = false;
  std::vector<WalkedRegion> kept_;
};

}  // namespace relutope::detail
