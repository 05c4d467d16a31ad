// Lowering a Graph to the layered Network: one layer per unit, skip values carried as linear rows,
// and the affine ops between two units folded into one dense matrix by apply_affine on identity
// columns (so a BatchNormalization folds into the Conv or Gemm beside it). The same lowering runs in
// rationals for exact arithmetic (lower_exactly): each affine op's own weights are read off
// apply_affine on identity columns, which is exact, and the folds are rational products.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "detail/exact_network.h"
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

using Rational = detail::ExactNetwork::Rational;

// A rational matrix, row-major: the exact lowering's families (rows [constant | coefficients]).
struct RationalFamily {
  Eigen::Index num_rows = 0, num_cols = 0;
  std::vector<Rational> v;
  RationalFamily() = default;
  RationalFamily(Eigen::Index r, Eigen::Index c) : num_rows(r), num_cols(c), v(static_cast<std::size_t>(r * c)) {}
  Eigen::Index rows() const { return num_rows; }
  Rational& operator()(Eigen::Index i, Eigen::Index j) { return v[static_cast<std::size_t>(i * num_cols + j)]; }
  const Rational& operator()(Eigen::Index i, Eigen::Index j) const { return v[static_cast<std::size_t>(i * num_cols + j)]; }
};

// What the lowering needs of a family type, in doubles (the Network) and in rationals (exact arithmetic).
template <class Family>
struct FamilyOps;

template <>
struct FamilyOps<Eigen::MatrixXd> {
  static Eigen::MatrixXd zeros(Eigen::Index r, Eigen::Index c) { return Eigen::MatrixXd::Zero(r, c); }
  static Eigen::MatrixXd constant(const GraphNode& node, Eigen::Index k) { return constant_family(node, k); }
  static Eigen::MatrixXd affine(const GraphNode& node, const std::vector<const Eigen::MatrixXd*>& in) {
    return apply_affine(node, in);
  }
  // rows.row(r) = sign * f.row(i), then shift added to its constant (when add).
  static void place(Eigen::MatrixXd& rows, Eigen::Index r, const Eigen::MatrixXd& f, Eigen::Index i, double sign,
                    double shift, bool add) {
    if (sign == 1) rows.row(r) = f.row(i);
    else rows.row(r) = -f.row(i);
    if (add) rows(r, 0) += shift;
  }
};

template <>
struct FamilyOps<RationalFamily> {
  static RationalFamily zeros(Eigen::Index r, Eigen::Index c) { return RationalFamily(r, c); }
  static RationalFamily constant(const GraphNode& node, Eigen::Index k) {
    RationalFamily f(node.size(), k);
    for (Eigen::Index i = 0; i < node.size(); ++i) f(i, 0) = node.values[i];
    return f;
  }
  // The node's shift and weights, read off apply_affine on identity columns (exact: each entry is one
  // weight times 1 plus zeros), times the inputs' families in rationals.
  static RationalFamily affine(const GraphNode& node, const std::vector<const RationalFamily*>& in) {
    Eigen::Index total = 0;
    for (const RationalFamily* f : in) total += f->rows();
    std::vector<Eigen::MatrixXd> identity;
    Eigen::Index at = 0;
    for (const RationalFamily* f : in) {
      Eigen::MatrixXd e = Eigen::MatrixXd::Zero(f->rows(), 1 + total);
      for (Eigen::Index i = 0; i < f->rows(); ++i) e(i, 1 + at + i) = 1;
      at += f->rows();
      identity.push_back(std::move(e));
    }
    std::vector<const Eigen::MatrixXd*> ptrs;
    for (const Eigen::MatrixXd& e : identity) ptrs.push_back(&e);
    const Eigen::MatrixXd y = apply_affine(node, ptrs);
    const Eigen::Index k = in.empty() ? 1 : in.front()->num_cols;
    RationalFamily out(y.rows(), k);
    for (Eigen::Index r = 0; r < y.rows(); ++r) {
      if (y(r, 0) != 0) out(r, 0) = y(r, 0);
      Eigen::Index col = 0;
      for (const RationalFamily* f : in)
        for (Eigen::Index i = 0; i < f->rows(); ++i, ++col) {
          const double w = y(r, 1 + col);
          if (w == 0) continue;
          const Rational wq(w);
          for (Eigen::Index j = 0; j < k; ++j)
            if (sgn((*f)(i, j)) != 0) out(r, j) += wq * (*f)(i, j);
        }
    }
    return out;
  }
  static void place(RationalFamily& rows, Eigen::Index r, const RationalFamily& f, Eigen::Index i, double sign,
                    double shift, bool add) {
    for (Eigen::Index j = 0; j < f.num_cols; ++j) rows(r, j) = sign == 1 ? f(i, j) : Rational(-f(i, j));
    if (add) rows(r, 0) += shift;
  }
};

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
        const Eigen::MatrixXd f = family_of<Eigen::MatrixXd>({g_.output}, live, width, nullptr)[0];
        layer.bias = f.col(0);
        layer.weight = f.rightCols(width);
        layer.activation = Activation::kNone;
      } else {
        const Eigen::MatrixXd rows = pre_activations<Eigen::MatrixXd>(p, live, width, nullptr);
        layer.bias = rows.col(0);
        layer.weight = rows.rightCols(width);
        next = lower_unit(p, layer);
      }
      width = layer.num_out();
      net.layers.push_back(std::move(layer));
      live = std::move(next);
    }
    return net;
  }

  // The layers of run() in rationals, the input being `input` (k + 1 columns [origin | linear]) or
  // the identity.
  std::vector<detail::ExactLayerValues> run_exactly(const RationalFamily* input) {
    plan();
    const Eigen::Index d = g_.nodes[g_.input].size();
    check_exact_size(input ? input->num_cols - 1 : d);
    std::vector<detail::ExactLayerValues> out;
    std::vector<Live> live{{g_.input, {}}};
    Eigen::Index width = input ? input->num_cols - 1 : d;
    for (const LayerPlan& p : plans_) {
      RationalFamily rows = p.unit < 0 ? std::move(family_of<RationalFamily>({g_.output}, live, width, input)[0])
                                       : pre_activations<RationalFamily>(p, live, width, input);
      const Eigen::Index num_rows = rows.rows();
      detail::ExactLayerValues layer;
      layer.bias.resize(rows.rows());
      layer.weight.assign(rows.rows(), detail::ExactNetwork::Vector(width));
      for (Eigen::Index i = 0; i < rows.rows(); ++i) {
        layer.bias[i] = std::move(rows(i, 0));
        for (Eigen::Index j = 0; j < width; ++j) layer.weight[i][j] = std::move(rows(i, 1 + j));
      }
      out.push_back(std::move(layer));
      input = nullptr;  // the input node is read in the first block only
      if (p.unit < 0) break;
      Layer shape;
      live = lower_unit(p, shape);
      width = g_.nodes[p.unit].kind == OpKind::kMax ? static_cast<Eigen::Index>(shape.unit_rows.size()) : num_rows;
    }
    return out;
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
  template <class Family>
  static Family source_family(const GraphNode& node, const Readout& r, Eigen::Index width) {
    const Eigen::Index n = node.size();
    Family f = FamilyOps<Family>::zeros(n, width + 1);
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
  // by apply_affine and dropped after its last use in the block. With `input`, the graph input's
  // family is that map instead of the identity (the first block of an exact lowering on a slice).
  template <class Family>
  std::vector<Family> family_of(const std::vector<int>& targets, const std::vector<Live>& live, Eigen::Index width,
                                const Family* input) const {
    std::set<int> live_set;
    for (const Live& l : live) live_set.insert(l.node);
    const std::vector<int> nodes = block_nodes(targets, live_set);
    std::map<int, int> uses;
    for (int n : nodes)
      if (is_affine(g_.nodes[n].kind))
        for (int in : g_.nodes[n].inputs) ++uses[in];
    for (int t : targets) ++uses[t];
    std::map<int, Family> family;
    for (int n : nodes) {
      const GraphNode& node = g_.nodes[n];
      if (live_set.count(n)) {
        for (const Live& l : live)
          if (l.node == n) family[n] = input && n == g_.input ? *input : source_family<Family>(node, l.readout, width);
      } else if (node.kind == OpKind::kConstant) {
        family[n] = FamilyOps<Family>::constant(node, width + 1);
      } else {
        std::vector<const Family*> in;
        for (int j : node.inputs) in.push_back(&family.at(j));
        family[n] = FamilyOps<Family>::affine(node, in);
        for (int j : node.inputs)
          if (--uses[j] == 0) family.erase(j);
      }
    }
    std::vector<Family> out;
    for (int t : targets) out.push_back(family.at(t));
    return out;
  }

  // The pre-activations of unit layer p as rows [constant | coefficients] of h: the unit's rows
  // (shifted by a clip's bounds), then the carried values.
  template <class Family>
  Family pre_activations(const LayerPlan& p, const std::vector<Live>& live, Eigen::Index width, const Family* input) const {
    using Ops = FamilyOps<Family>;
    const GraphNode& u = g_.nodes[p.unit];
    std::vector<int> targets = u.inputs;
    targets.insert(targets.end(), p.carried.begin(), p.carried.end());
    const std::vector<Family> f = family_of<Family>(targets, live, width, input);
    Family rows = Ops::zeros(p.num_rows, width + 1);
    Eigen::Index row = 0;
    const Eigen::Index n = u.size();
    if (u.kind == OpKind::kRelu) {
      for (Eigen::Index i = 0; i < n; ++i) Ops::place(rows, row++, f[0], i, 1, 0, false);
    } else if (u.kind == OpKind::kClip) {
      const bool has_lo = std::isfinite(u.lo), has_hi = std::isfinite(u.hi);
      for (Eigen::Index i = 0; i < n; ++i) {
        if (has_lo && has_hi) {  // clip(z, lo, hi) = lo + relu(z - lo) - relu(z - hi)
          Ops::place(rows, row++, f[0], i, 1, -u.lo, true);
          Ops::place(rows, row++, f[0], i, 1, -u.hi, true);
        } else if (has_lo) {  // max(z, lo) = lo + relu(z - lo)
          Ops::place(rows, row++, f[0], i, 1, -u.lo, true);
        } else {  // min(z, hi) = hi - relu(hi - z)
          Ops::place(rows, row++, f[0], i, -1, u.hi, true);
        }
      }
    } else {  // kMax: one row per window entry, from the inputs one after the other
      std::vector<Eigen::Index> offset{0};
      for (int in : u.inputs) offset.push_back(offset.back() + g_.nodes[in].size());
      for (std::int64_t e = 0; e < static_cast<std::int64_t>(u.rows.index.size()); ++e) {
        const std::int64_t index = u.rows.index[e];
        const std::size_t which = static_cast<std::size_t>(std::upper_bound(offset.begin(), offset.end(), index) - offset.begin()) - 1;
        Ops::place(rows, row++, f[which], index - offset[which], 1, 0, false);
      }
    }
    for (std::size_t c = 0; c < p.carried.size(); ++c) {
      const Family& fc = f[u.inputs.size() + c];
      for (Eigen::Index i = 0; i < fc.rows(); ++i) Ops::place(rows, row++, fc, i, 1, 0, false);
    }
    return rows;
  }

  // The activation, slopes and units of unit layer p (its weight and bias set), and how the values
  // live after it are read from its output.
  std::vector<Live> lower_unit(const LayerPlan& p, Layer& layer) const {
    const GraphNode& u = g_.nodes[p.unit];
    Eigen::VectorXd slopes = Eigen::VectorXd::Zero(p.num_rows);
    std::vector<int> unit_rows;
    Eigen::Index row = 0;
    std::vector<Live> next{{p.unit, {}}};
    const Eigen::Index n = u.size();
    if (u.kind == OpKind::kRelu) {
      slopes.head(n) = u.slope.size() == 1 ? Eigen::VectorXd::Constant(n, u.slope[0]) : u.slope;
      row = n;
    } else if (u.kind == OpKind::kClip) {
      const bool has_lo = std::isfinite(u.lo), has_hi = std::isfinite(u.hi);
      if (has_lo && has_hi) {
        for (Eigen::Index i = 0; i < n; ++i) unit_rows.push_back(2);
        next[0].readout = {Readout::kClip2, 0, u.lo};
        row = 2 * n;
      } else if (has_lo) {
        next[0].readout = {Readout::kShift, 0, u.lo};
        row = n;
      } else {
        next[0].readout = {Readout::kNegShift, 0, u.hi};
        row = n;
      }
    } else {  // kMax
      for (std::int64_t w = 0; w < u.rows.num_rows(); ++w)
        unit_rows.push_back(static_cast<int>(u.rows.start[w + 1] - u.rows.start[w]));
      row = static_cast<Eigen::Index>(u.rows.index.size());
    }
    const Eigen::Index unit_end = row;
    Eigen::Index out = u.kind == OpKind::kMax ? u.size() : row;
    for (std::size_t c = 0; c < p.carried.size(); ++c) {
      const Eigen::Index size = g_.nodes[p.carried[c]].size();
      slopes.segment(row, size).setOnes();
      next.push_back({p.carried[c], {Readout::kRows, out, 0}});
      for (Eigen::Index i = 0; i < size; ++i) unit_rows.push_back(1);
      row += size;
      out += size;
    }
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

  // Exact arithmetic folds in rationals, whose numbers grow with every product: refuse blocks far
  // beyond what a small network needs rather than run out of memory or time.
  void check_exact_size(Eigen::Index first_width) const {
    std::set<int> live{g_.input};
    Eigen::Index width = first_width;
    double entries = 0;
    for (const LayerPlan& p : plans_) {
      std::vector<int> targets = p.carried;
      if (p.unit >= 0) targets.insert(targets.end(), g_.nodes[p.unit].inputs.begin(), g_.nodes[p.unit].inputs.end());
      else targets = {g_.output};
      int worst = targets.front();
      entries += block_bytes(targets, live, width + 1, worst) / 8 + static_cast<double>(p.num_rows) * (width + 1);
      for (int n : block_nodes(targets, live))
        if (is_affine(g_.nodes[n].kind)) {
          double in = 0;
          for (int j : g_.nodes[n].inputs) in += static_cast<double>(g_.nodes[j].size());
          entries = std::max(entries, in * static_cast<double>(g_.nodes[n].size()));  // its weights, read at once
        }
      live.clear();
      if (p.unit >= 0) live.insert(p.unit);
      live.insert(p.carried.begin(), p.carried.end());
      width = p.num_out;
    }
    if (entries > kMaxExactEntries) {
      std::ostringstream msg;
      msg << g_.source << ": a cut within the floating-point tolerance needs exact arithmetic, but folding the graph's "
          << "affine operations in rationals would hold about " << static_cast<long long>(entries / 1e6)
          << " million entries (more than " << static_cast<long long>(kMaxExactEntries / 1e6)
          << " million), so the count cannot be certified";
      throw UncertifiedError(msg.str());
    }
  }

  static constexpr double kMaxExactEntries = 2e7;

  const Graph& g_;
  std::size_t limit_;
  std::vector<std::vector<int>> sources_;
  std::vector<LayerPlan> plans_;
};

}  // namespace

Network lower_to_network(const Graph& graph, std::size_t limit_bytes) {
  Network net = Lowering(graph, limit_bytes).run();
  auto exact = std::make_shared<ExactDefinition>();
  exact->graph = std::make_shared<const Graph>(graph);
  net.exact = std::move(exact);
  return net;
}

namespace detail {

std::vector<ExactLayerValues> lower_exactly(const Graph& graph, const RationalMap* input) {
  if (!input) return Lowering(graph, 0).run_exactly(nullptr);
  const Eigen::Index d = static_cast<Eigen::Index>(input->origin.size());
  const Eigen::Index k = input->linear.empty() ? 0 : static_cast<Eigen::Index>(input->linear[0].size());
  RationalFamily family(d, k + 1);
  for (Eigen::Index i = 0; i < d; ++i) {
    family(i, 0) = input->origin[i];
    for (Eigen::Index j = 0; j < k; ++j) family(i, 1 + j) = input->linear[i][j];
  }
  return Lowering(graph, 0).run_exactly(&family);
}

}  // namespace detail

double dense_layers_bytes(const Graph& graph) { return Lowering(graph, 0).dense_bytes(); }

}  // namespace relutope
