// The regions of a walk, kept compactly (relutope/walked_regions.h, detail/region_collector.h).
#include "relutope/walked_regions.h"

#include <algorithm>
#include <cmath>

#include "detail/region_collector.h"

namespace relutope {

GraphPattern::GraphPattern(const Graph& graph) : graph_(&graph), layer_of_node_(graph.nodes.size(), -1) {
  for (int i = 0; i < static_cast<int>(graph.nodes.size()); ++i) {
    const GraphNode& node = graph.nodes[i];
    if (!is_unit(node.kind)) continue;
    Layer layer;
    layer.node = i;
    layer.first = num_entries_;
    const std::int64_t n = node.kind == OpKind::kMax ? node.rows.num_rows() : node.size();
    std::vector<std::int64_t> entry(static_cast<std::size_t>(n), -1);
    for (std::int64_t e = 0; e < n; ++e) {
      bool has = true;
      if (node.kind == OpKind::kRelu) has = detail::GraphTrack::relu_slope(node, e) != 1;  // slope 1: linear
      if (node.kind == OpKind::kMax) has = node.rows.start[e + 1] - node.rows.start[e] >= 2;
      if (!has) continue;
      entry[e] = num_entries_ + static_cast<std::int64_t>(layer.elements.size());
      layer.elements.push_back(e);
    }
    if (layer.elements.empty()) continue;
    num_entries_ += static_cast<std::int64_t>(layer.elements.size());
    layer_of_node_[i] = static_cast<int>(layers_.size());
    layers_.push_back(std::move(layer));
    entry_.push_back(std::move(entry));
  }
}

std::int64_t GraphPattern::entry(int node, std::int64_t element) const {
  const int l = layer_of_node_[node];
  return l < 0 ? -1 : entry_[l][element];
}

std::pair<int, std::int64_t> GraphPattern::locate(std::int64_t entry) const {
  const auto after = std::upper_bound(layers_.begin(), layers_.end(), entry,
                                      [](std::int64_t e, const Layer& layer) { return e < layer.first; });
  const int l = static_cast<int>(after - layers_.begin()) - 1;
  return {l, layers_[l].elements[entry - layers_[l].first]};
}

std::string GraphPattern::text(const ActivationPattern& pattern) const {
  std::string out;
  out.reserve(pattern.size() + layers_.size());
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    if (l) out += '|';
    const bool max = graph_->nodes[layers_[l].node].kind == OpKind::kMax;
    for (std::size_t k = 0; k < layers_[l].elements.size(); ++k) {
      const int state = pattern[layers_[l].first + static_cast<std::int64_t>(k)];
      if (max) {
        if (k) out += '.';
        out += std::to_string(state);
      } else {
        out += static_cast<char>('0' + state);
      }
    }
  }
  return out;
}

ActivationPattern WalkedRegions::pattern(std::size_t i) const {
  ActivationPattern p = reference;
  for (const PatternChange& c : regions[i].changes) p[c.entry] = c.state;
  return p;
}

namespace detail {

namespace {

// The pattern entry's state of a unit value in the walk's state `s` (GraphTrack::state).
std::uint8_t digit(const GraphNode& node, std::int64_t element, std::int64_t s) {
  if (node.kind == OpKind::kRelu) return s == GraphTrack::kSlope ? 0 : 1;
  if (node.kind == OpKind::kClip) {
    if (std::isfinite(node.lo) && std::isfinite(node.hi)) return s == GraphTrack::kAtLow ? 0 : s == GraphTrack::kPass ? 1 : 2;
    return s == GraphTrack::kPass ? 1 : 0;
  }
  // Max: the position of the chosen input within its window.
  const SparseRows& w = node.rows;
  for (std::int64_t k = w.start[element]; k < w.start[element + 1]; ++k)
    if (w.index[k] == s) return static_cast<std::uint8_t>(k - w.start[element]);
  return 0;  // not reached: the state is an input of its window
}

// Region a's pattern against b's, both as changes against `base`: -1, 0 or 1.
int compare(const WalkedRegion& a, const WalkedRegion& b, const ActivationPattern& base) {
  std::size_t i = 0, j = 0;
  while (i < a.changes.size() || j < b.changes.size()) {
    std::int64_t e;
    if (j == b.changes.size() || (i < a.changes.size() && a.changes[i].entry < b.changes[j].entry)) e = a.changes[i].entry;
    else e = b.changes[j].entry;
    const std::uint8_t sa = i < a.changes.size() && a.changes[i].entry == e ? a.changes[i++].state : base[e];
    const std::uint8_t sb = j < b.changes.size() && b.changes[j].entry == e ? b.changes[j++].state : base[e];
    if (sa != sb) return sa < sb ? -1 : 1;
  }
  return 0;
}

}  // namespace

RegionCollector::RegionCollector(const Graph& graph, WalkedRegions& out) : graph_(graph), layout_(graph), out_(out) {}

WalkedRegion RegionCollector::make(const GraphTrack& track, WalkedRegion region) {
  ActivationPattern pattern(static_cast<std::size_t>(layout_.num_entries()));
  for (const GraphPattern::Layer& layer : layout_.layers()) {
    const GraphNode& node = graph_.nodes[layer.node];
    const std::vector<std::int64_t>& state = track.state(layer.node);
    for (std::size_t k = 0; k < layer.elements.size(); ++k) {
      const std::int64_t e = layer.elements[k];
      pattern[layer.first + static_cast<std::int64_t>(k)] = digit(node, e, state[e]);
    }
  }
  {
    const std::lock_guard<std::mutex> hold(lock_);
    if (!has_first_) {
      first_ = pattern;
      has_first_ = true;
    }
  }
  region.changes.clear();
  for (std::size_t e = 0; e < pattern.size(); ++e)
    if (pattern[e] != first_[e]) region.changes.push_back({static_cast<std::int64_t>(e), pattern[e]});
  return region;
}

void RegionCollector::keep(WalkedRegion region) {
  const std::lock_guard<std::mutex> hold(lock_);
  kept_.push_back(std::move(region));
}

void RegionCollector::finish() {
  out_.regions.clear();
  out_.reference.clear();
  if (kept_.empty()) return;
  std::sort(kept_.begin(), kept_.end(),
            [&](const WalkedRegion& a, const WalkedRegion& b) { return compare(a, b, first_) < 0; });
  // Rebase every region's changes on the lowest pattern.
  const std::vector<PatternChange> lowest = kept_.front().changes;
  out_.reference = first_;
  for (const PatternChange& c : lowest) out_.reference[c.entry] = c.state;
  for (WalkedRegion& r : kept_) {
    std::vector<PatternChange> changes;
    std::size_t i = 0, j = 0;
    while (i < r.changes.size() || j < lowest.size()) {
      std::int64_t e;
      if (j == lowest.size() || (i < r.changes.size() && r.changes[i].entry < lowest[j].entry)) e = r.changes[i].entry;
      else e = lowest[j].entry;
      const std::uint8_t mine = i < r.changes.size() && r.changes[i].entry == e ? r.changes[i++].state : first_[e];
      if (j < lowest.size() && lowest[j].entry == e) ++j;
      if (mine != out_.reference[e]) changes.push_back({e, mine});
    }
    r.changes = std::move(changes);
  }
  out_.regions = std::move(kept_);
  kept_.clear();
}

Eigen::MatrixXd RegionCollector::output_of(const Graph& graph, GraphTrack& track) {
  int last_unit = -1;
  for (int i = 0; i < static_cast<int>(graph.nodes.size()); ++i)
    if (is_unit(graph.nodes[i].kind)) last_unit = i;
  if (graph.output > last_unit) track.compute_affine(last_unit + 1, graph.output + 1);
  const DdFamily& y = track.value(graph.output);
  return y.hi + y.lo;
}

}  // namespace detail

}  // namespace relutope
