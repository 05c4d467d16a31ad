// Lowering a Graph to the layered Network: one layer per unit, skip values carried as linear rows,
// and the affine ops between two units folded into one dense matrix by apply_affine on identity
// columns (so a BatchNormalization folds into the Conv or Gemm beside it).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "relutope/error.h"
#include "relutope/graph.h"

namespace relutope {

namespace {

// How a value that is live between two layers is read from the layer output h.
struct Readout {
  enum Kind {
    kRows,      // value[i] = h[offset + i]
    kShift,     // value[i] = h[offset + i] + c        (clip from below at c)
    kNegShift,  // value[i] = c - h[offset + i]        (clip from above at c)
    kClip2,     // value[i] = c + h[offset + 2i] - h[offset + 2i + 1]  (clip to [c, hi])
  };
  Kind kind = kRows;
  Eigen::Index offset = 0;
  double c = 0;
};

struct Live {
  int node;
  Readout readout;
};

// One layer of the plan: the unit it lowers, the sources carried past it, and its size.
struct LayerPlan {
  int unit = -1;              // -1: the final affine layer
  std::vector<int> carried;   // sources carried as linear rows, in order
  Eigen::Index num_rows = 0;  // rows of the layer (pre-activations)
  Eigen::Index num_out = 0;   // width of the layer's output h
};

std::string mb(double bytes) {
  std::ostringstream out;
  if (bytes >= 1e12) out << "more than 1,000,000 MB";
  else out << static_cast<long long>(std::ceil(bytes / (1 << 20))) << " MB";
  return out.str();
}

class Lowering {
 public:
  Lowering(const Graph& graph, std::size_t limit) : g_(graph), limit_(limit) {}

  // The peak bytes lower_to_network would need.
  double dense_bytes() {
    plan();
    return size_layers(false);
  }

  Network run() {
    plan();
    size_layers(true);
    Network net;
    net.source = g_.source;
    net.output_head = g_.output_head;
    std::vector<Live> live{{g_.input, {}}};
    Eigen::Index width = g_.nodes[g_.input].size();
    for (const LayerPlan& p : plans_) {
      Layer layer;
      std::vector<Live> next;
      if (p.unit < 0) {
        const Eigen::MatrixXd f = family_of({g_.output}, live, width)[0];
        layer.bias = f.col(0);
        layer.weight = f.rightCols(width);
        layer.activation = Activation::kNone;
      } else {
        next = lower_unit(p, live, width, layer);
      }
      width = layer.num_out();
      net.layers.push_back(std::move(layer));
      live = std::move(next);
    }
    return net;
  }

 private:
  bool is_source(int n) const { return n == g_.input || is_unit(g_.nodes[n].kind); }

  // The sources each node depends on through affine ops only.
  void compute_sources() {
    sources_.assign(g_.nodes.size(), {});
    for (std::size_t i = 0; i < g_.nodes.size(); ++i) {
      if (is_source(static_cast<int>(i))) {
        sources_[i] = {static_cast<int>(i)};
        continue;
      }
      std::set<int> all;
      for (int in : g_.nodes[i].inputs) all.insert(sources_[in].begin(), sources_[in].end());
      sources_[i].assign(all.begin(), all.end());
    }
  }

  Eigen::Index unit_rows_of(const GraphNode& u) const {
    if (u.kind == OpKind::kMax) return static_cast<Eigen::Index>(u.rows.index.size());
    if (u.kind == OpKind::kClip && std::isfinite(u.lo) && std::isfinite(u.hi)) return 2 * u.size();
    return u.size();
  }

  void plan() {
    compute_sources();
    std::vector<int> units;
    for (std::size_t i = 0; i < g_.nodes.size(); ++i)
      if (is_unit(g_.nodes[i].kind)) units.push_back(static_cast<int>(i));
    // needed_after[k]: the sources that something after unit k reads.
    std::vector<std::set<int>> needed_after(units.size());
    std::set<int> needed(sources_[g_.output].begin(), sources_[g_.output].end());
    for (std::size_t k = units.size(); k-- > 0;) {
      needed_after[k] = needed;
      for (int in : g_.nodes[units[k]].inputs) needed.insert(sources_[in].begin(), sources_[in].end());
    }
    std::vector<int> live{g_.input};
    for (std::size_t k = 0; k < units.size(); ++k) {
      const GraphNode& u = g_.nodes[units[k]];
      LayerPlan p;
      p.unit = units[k];
      for (int s : live)
        if (needed_after[k].count(s)) p.carried.push_back(s);
      p.num_rows = unit_rows_of(u);
      p.num_out = u.size();
      for (int s : p.carried) {
        p.num_rows += g_.nodes[s].size();
        p.num_out += g_.nodes[s].size();
      }
      live = {p.unit};
      live.insert(live.end(), p.carried.begin(), p.carried.end());
      plans_.push_back(p);
    }
    // The last unit's output is the network's output as it stands: no affine layer after it.
    const bool output_is_h = !units.empty() && g_.output == units.back() && plans_.back().carried.empty() &&
                             !(g_.nodes[units.back()].kind == OpKind::kClip);
    if (!output_is_h) {
      LayerPlan p;
      p.num_rows = p.num_out = g_.nodes[g_.output].size();
      plans_.push_back(p);
    }
  }

  // The affine nodes needed to compute `targets` from the live sources, in topological order.
  std::vector<int> block_nodes(const std::vector<int>& targets, const std::set<int>& live) const {
    std::set<int> seen;
    std::vector<int> stack(targets.begin(), targets.end());
    while (!stack.empty()) {
      const int n = stack.back();
      stack.pop_back();
      if (!seen.insert(n).second || live.count(n) || g_.nodes[n].kind == OpKind::kConstant) continue;
      if (!is_affine(g_.nodes[n].kind))
        throw Error("lower_to_network: node \"" + g_.nodes[n].name + "\" is needed but not live (internal error)");
      for (int in : g_.nodes[n].inputs) stack.push_back(in);
    }
    return {seen.begin(), seen.end()};  // std::set is sorted: topological order
  }

  // Peak bytes of the families of one block of k columns, values dropped after their last use.
  double block_bytes(const std::vector<int>& targets, const std::set<int>& live, Eigen::Index k, int& worst) const {
    const std::vector<int> nodes = block_nodes(targets, live);
    std::map<int, int> uses;
    for (int n : nodes)
      if (is_affine(g_.nodes[n].kind))
        for (int in : g_.nodes[n].inputs) ++uses[in];
    for (int t : targets) ++uses[t];
    double current = 0, peak = 0;
    for (int n : nodes) {
      current += 8.0 * g_.nodes[n].size() * k;
      if (current > peak) {
        peak = current;
        worst = n;
      }
      if (is_affine(g_.nodes[n].kind))
        for (int in : g_.nodes[n].inputs)
          if (--uses[in] == 0) current -= 8.0 * g_.nodes[in].size() * k;
    }
    return peak;
  }

  // The peak bytes of the dense layers and the blocks that fold them; every block is sized before
  // anything is allocated. With `enforce`, a block over the limit throws, naming where.
  double size_layers(bool enforce) const {
    std::set<int> live{g_.input};
    Eigen::Index width = g_.nodes[g_.input].size();
    double network = 0, peak = 0;
    for (const LayerPlan& p : plans_) {
      std::vector<int> targets = p.carried;
      if (p.unit >= 0) targets.insert(targets.end(), g_.nodes[p.unit].inputs.begin(), g_.nodes[p.unit].inputs.end());
      else targets = {g_.output};
      int worst = targets.front();
      const double layer = 8.0 * p.num_rows * (width + 1);
      const double block = block_bytes(targets, live, width + 1, worst);
      network += layer;  // the layers built so far, this one included
      peak = std::max(peak, block + network);
      if (enforce && block + network > static_cast<double>(limit_)) {
        const GraphNode& at = g_.nodes[p.unit >= 0 ? p.unit : g_.output];
        std::ostringstream msg;
        msg << g_.source << ": too large for dense layers: the affine ops before node \"" << at.name << "\" ("
            << at.op_type << ") fold into a " << p.num_rows << " x " << width
            << " matrix; with the values in between (node \"" << g_.nodes[worst].name << "\" has " << g_.nodes[worst].size()
            << " values) this needs about " << mb(block + network) << ", more than the limit of " << mb(limit_)
            << ". Networks of this size (ResNet-18, for example) can be evaluated but not lowered to dense layers";
        throw InputError(msg.str());
      }
      live.clear();
      if (p.unit >= 0) live.insert(p.unit);
      live.insert(p.carried.begin(), p.carried.end());
      width = p.num_out;
    }
    return peak;
  }


  // The family (n x (width+1)) of a live source: its readout from h as [constant | coefficients].
  static Eigen::MatrixXd source_family(const GraphNode& node, const Readout& r, Eigen::Index width) {
    const Eigen::Index n = node.size();
    Eigen::MatrixXd f = Eigen::MatrixXd::Zero(n, width + 1);
    for (Eigen::Index i = 0; i < n; ++i) switch (r.kind) {
        case Readout::kRows: f(i, 1 + r.offset + i) = 1; break;
        case Readout::kShift:
          f(i, 0) = r.c;
          f(i, 1 + r.offset + i) = 1;
          break;
        case Readout::kNegShift:
          f(i, 0) = r.c;
          f(i, 1 + r.offset + i) = -1;
          break;
        case Readout::kClip2:
          f(i, 0) = r.c;
          f(i, 1 + r.offset + 2 * i) = 1;
          f(i, 1 + r.offset + 2 * i + 1) = -1;
          break;
      }
    return f;
  }

  // The families of `targets` as affine maps of h (width values), each node's family computed once
  // by apply_affine and dropped after its last use in the block.
  std::vector<Eigen::MatrixXd> family_of(const std::vector<int>& targets, const std::vector<Live>& live,
                                         Eigen::Index width) const {
    std::set<int> live_set;
    for (const Live& l : live) live_set.insert(l.node);
    const std::vector<int> nodes = block_nodes(targets, live_set);
    std::map<int, int> uses;
    for (int n : nodes)
      if (is_affine(g_.nodes[n].kind))
        for (int in : g_.nodes[n].inputs) ++uses[in];
    for (int t : targets) ++uses[t];
    std::map<int, Eigen::MatrixXd> family;
    for (int n : nodes) {
      const GraphNode& node = g_.nodes[n];
      if (live_set.count(n)) {
        for (const Live& l : live)
          if (l.node == n) family[n] = source_family(node, l.readout, width);
      } else if (node.kind == OpKind::kConstant) {
        family[n] = constant_family(node, width + 1);
      } else {
        std::vector<const Eigen::MatrixXd*> in;
        for (int j : node.inputs) in.push_back(&family.at(j));
        family[n] = apply_affine(node, in);
        for (int j : node.inputs)
          if (--uses[j] == 0) family.erase(j);
      }
    }
    std::vector<Eigen::MatrixXd> out;
    for (int t : targets) out.push_back(family.at(t));
    return out;
  }

  std::vector<Live> lower_unit(const LayerPlan& p, const std::vector<Live>& live, Eigen::Index width, Layer& layer) const {
    const GraphNode& u = g_.nodes[p.unit];
    std::vector<int> targets = u.inputs;
    targets.insert(targets.end(), p.carried.begin(), p.carried.end());
    std::vector<Eigen::MatrixXd> f = family_of(targets, live, width);
    Eigen::MatrixXd rows(p.num_rows, width + 1);
    Eigen::VectorXd slopes = Eigen::VectorXd::Zero(p.num_rows);
    std::vector<int> unit_rows;
    Eigen::Index row = 0;
    std::vector<Live> next{{p.unit, {}}};
    const Eigen::Index n = u.size();
    if (u.kind == OpKind::kRelu) {
      rows.topRows(n) = f[0];
      slopes.head(n) = u.slope.size() == 1 ? Eigen::VectorXd::Constant(n, u.slope[0]) : u.slope;
      row = n;
    } else if (u.kind == OpKind::kClip) {
      const bool has_lo = std::isfinite(u.lo), has_hi = std::isfinite(u.hi);
      if (has_lo && has_hi) {  // clip(z, lo, hi) = lo + relu(z - lo) - relu(z - hi)
        for (Eigen::Index i = 0; i < n; ++i) {
          rows.row(2 * i) = f[0].row(i);
          rows(2 * i, 0) -= u.lo;
          rows.row(2 * i + 1) = f[0].row(i);
          rows(2 * i + 1, 0) -= u.hi;
          unit_rows.push_back(2);
        }
        next[0].readout = {Readout::kClip2, 0, u.lo};
        row = 2 * n;
      } else if (has_lo) {  // max(z, lo) = lo + relu(z - lo)
        rows.topRows(n) = f[0];
        rows.col(0).head(n).array() -= u.lo;
        next[0].readout = {Readout::kShift, 0, u.lo};
        row = n;
      } else {  // min(z, hi) = hi - relu(hi - z)
        rows.topRows(n) = -f[0];
        rows.col(0).head(n).array() += u.hi;
        next[0].readout = {Readout::kNegShift, 0, u.hi};
        row = n;
      }
    } else {  // kMax: one row per window entry, from the inputs one after the other
      std::vector<Eigen::Index> offset{0};
      for (int in : u.inputs) offset.push_back(offset.back() + g_.nodes[in].size());
      for (std::int64_t w = 0; w < u.rows.num_rows(); ++w) {
        for (std::int64_t e = u.rows.start[w]; e < u.rows.start[w + 1]; ++e) {
          const std::int64_t index = u.rows.index[e];
          const std::size_t which = static_cast<std::size_t>(std::upper_bound(offset.begin(), offset.end(), index) - offset.begin()) - 1;
          rows.row(row++) = f[which].row(index - offset[which]);
        }
        unit_rows.push_back(static_cast<int>(u.rows.start[w + 1] - u.rows.start[w]));
      }
    }
    const Eigen::Index unit_end = row;
    Eigen::Index out = u.kind == OpKind::kMax ? u.size() : row;
    for (std::size_t c = 0; c < p.carried.size(); ++c) {
      const Eigen::MatrixXd& fc = f[u.inputs.size() + c];
      rows.middleRows(row, fc.rows()) = fc;
      slopes.segment(row, fc.rows()).setOnes();
      next.push_back({p.carried[c], {Readout::kRows, out, 0}});
      for (Eigen::Index i = 0; i < fc.rows(); ++i) unit_rows.push_back(1);
      row += fc.rows();
      out += fc.rows();
    }
    layer.bias = rows.col(0);
    layer.weight = rows.rightCols(width);
    if (u.kind == OpKind::kMax) {
      layer.activation = Activation::kMax;
      layer.unit_rows = std::move(unit_rows);
    } else {
      if (u.kind == OpKind::kClip && std::isfinite(u.lo) && std::isfinite(u.hi)) layer.unit_rows = std::move(unit_rows);
      const bool carried = row > unit_end;
      if (slopes.isZero(0)) {
        layer.activation = Activation::kRelu;
      } else if (!carried && u.op_type == "LeakyRelu") {
        layer.activation = Activation::kLeakyRelu;
        layer.negative_slope = Eigen::VectorXd::Constant(1, u.slope[0]);
      } else {
        layer.activation = Activation::kPRelu;
        layer.negative_slope = !carried && u.slope.size() == 1 ? u.slope : slopes;
      }
    }
    return next;
  }

  const Graph& g_;
  std::size_t limit_;
  std::vector<std::vector<int>> sources_;
  std::vector<LayerPlan> plans_;
};

}  // namespace

Network lower_to_network(const Graph& graph, std::size_t limit_bytes) { return Lowering(graph, limit_bytes).run(); }

double dense_layers_bytes(const Graph& graph) { return Lowering(graph, 0).dense_bytes(); }

}  // namespace relutope
