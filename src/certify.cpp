#include "relutope/certify.h"

#include <gmpxx.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <map>
#include <set>

#include "relutope/error.h"

namespace relutope {

namespace {

using Rational = mpq_class;
using Vector = std::vector<Rational>;
using Matrix = std::vector<Vector>;  // rows

// A split layer in exact arithmetic, with the affine layers before it folded in (exactly).
struct ExactLayer {
  Matrix weight;
  Vector bias;
  Vector slope;
};

std::vector<ExactLayer> exact_layers(const Network& net) {
  const int d = net.input_dim();
  Matrix pending(d, Vector(d, 0));
  for (int i = 0; i < d; ++i) pending[i][i] = 1;
  Vector pending_bias(d, 0);
  std::vector<ExactLayer> out;
  for (const Layer& layer : net.layers) {
    const int n = layer.num_out(), m = layer.num_in();
    const int cols = static_cast<int>(pending[0].size());
    Matrix w(n, Vector(cols, 0));
    Vector b(n, 0);
    for (int i = 0; i < n; ++i) {
      for (int k = 0; k < m; ++k) {
        const Rational wik(layer.weight(i, k));
        for (int j = 0; j < cols; ++j) w[i][j] += wik * pending[k][j];
        b[i] += wik * pending_bias[k];
      }
      b[i] += Rational(layer.bias[i]);
    }
    if (!layer.splits()) {
      pending = std::move(w);
      pending_bias = std::move(b);
      continue;
    }
    ExactLayer e{std::move(w), std::move(b), Vector(n)};
    for (int i = 0; i < n; ++i) e.slope[i] = Rational(layer.slope_below(i));
    out.push_back(std::move(e));
    pending.assign(n, Vector(n, 0));
    for (int i = 0; i < n; ++i) pending[i][i] = 1;
    pending_bias.assign(n, 0);
  }
  return out;
}

struct Cell {
  std::vector<Vector> x;             // vertices
  std::vector<std::vector<int>> on;  // sorted ids of the constraints tight at each vertex
};

class ExactSearch {
 public:
  ExactSearch(const Network& net, const Domain& domain) : layers_(exact_layers(net)), dim_(domain.dim()) {
    for (const ExactLayer& l : layers_) widths_.push_back(static_cast<int>(l.weight.size()));
    int total = 0;
    for (int w : widths_) total += w;
    pattern_.assign(total, '0');
    // The box: vertex v has coordinate i at hi iff bit i is set; constraint 2i is x_i >= lo_i, 2i+1 x_i <= hi_i.
    for (std::uint64_t v = 0; v < (std::uint64_t{1} << dim_); ++v) {
      Vector x(dim_);
      std::vector<int> on;
      for (int i = 0; i < dim_; ++i) {
        const bool upper = (v >> i) & 1;
        x[i] = Rational(upper ? domain.hi[i] : domain.lo[i]);
        on.push_back(2 * i + (upper ? 1 : 0));
      }
      root_.x.push_back(std::move(x));
      root_.on.push_back(std::move(on));
    }
    next_id_ = 2 * dim_;
  }

  // Every region's pattern, with the identities of its facets: "d<k>" for domain constraint k,
  // "n<g>" for global neuron g.
  std::map<std::string, std::set<std::string>> run() {
    if (layers_.empty()) {
      std::set<std::string> box;
      for (int k = 0; k < 2 * dim_; ++k) box.insert("d" + std::to_string(k));
      found_[""] = box;
      return found_;
    }
    Matrix identity(dim_, Vector(dim_ + 1, 0));  // rows: [w_0 .. w_{d-1}, c] of the input itself
    for (int i = 0; i < dim_; ++i) identity[i][i] = 1;
    descend(root_, 0, 0, identity, 0);
    return found_;
  }

 private:
  // `post`: the previous layer's outputs as affine maps of x (rows [w, c]).
  void descend(const Cell& cell, int layer, int neuron, const Matrix& post, int offset) {
    if (layer == static_cast<int>(layers_.size())) {
      std::string p;
      int k = 0;
      for (std::size_t l = 0; l < widths_.size(); ++l) {
        if (l) p += '|';
        for (int i = 0; i < widths_[l]; ++i) p += pattern_[k++];
      }
      found_[p] = facets(cell);
      return;
    }
    const ExactLayer& L = layers_[layer];
    if (neuron == 0) {  // the pre-activation maps of this layer on this cell
      pre_.resize(layers_.size());
      Matrix pre(L.weight.size(), Vector(dim_ + 1, 0));
      for (std::size_t i = 0; i < L.weight.size(); ++i) {
        for (std::size_t k = 0; k < post.size(); ++k)
          if (sgn(L.weight[i][k]) != 0)
            for (int j = 0; j <= dim_; ++j) pre[i][j] += L.weight[i][k] * post[k][j];
        pre[i][dim_] += L.bias[i];
      }
      pre_[layer] = std::move(pre);
    }
    if (neuron == static_cast<int>(L.weight.size())) {
      Matrix next = pre_[layer];
      for (std::size_t i = 0; i < next.size(); ++i)
        if (pattern_[offset + i] == '0')
          for (auto& v : next[i]) v *= L.slope[i];
      return descend(cell, layer + 1, 0, next, offset + static_cast<int>(L.weight.size()));
    }
    const Vector& f = pre_[layer][neuron];
    std::vector<int> sign(cell.x.size());
    bool pos = false, neg = false;
    std::vector<Rational> value(cell.x.size());
    for (std::size_t v = 0; v < cell.x.size(); ++v) {
      value[v] = f[dim_];
      for (int j = 0; j < dim_; ++j) value[v] += f[j] * cell.x[v][j];
      sign[v] = sgn(value[v]);
      pos |= sign[v] > 0;
      neg |= sign[v] < 0;
    }
    if (!pos || !neg) {
      pattern_[offset + neuron] = pos ? '1' : '0';
      return descend(cell, layer, neuron + 1, post, offset);
    }
    const int id = next_id_++;
    neuron_of_id_[id] = offset + neuron;
    Cell below, above;
    for (std::size_t v = 0; v < cell.x.size(); ++v) {
      if (sign[v] >= 0) add(above, cell.x[v], cell.on[v], sign[v] == 0 ? id : -1);
      if (sign[v] <= 0) add(below, cell.x[v], cell.on[v], sign[v] == 0 ? id : -1);
    }
    for (std::size_t p = 0; p < cell.x.size(); ++p) {
      if (sign[p] <= 0) continue;
      for (std::size_t n = 0; n < cell.x.size(); ++n) {
        if (sign[n] >= 0) continue;
        std::vector<int> common;
        std::set_intersection(cell.on[p].begin(), cell.on[p].end(), cell.on[n].begin(), cell.on[n].end(),
                              std::back_inserter(common));
        if (static_cast<int>(common.size()) < dim_ - 1) continue;
        // p and n span an edge iff no third vertex lies on every constraint they share
        bool third = false;
        for (std::size_t w = 0; w < cell.x.size() && !third; ++w)
          third = w != p && w != n && std::includes(cell.on[w].begin(), cell.on[w].end(), common.begin(), common.end());
        if (third) continue;
        const Rational t = value[p] / (value[p] - value[n]);
        Vector x(dim_);
        for (int j = 0; j < dim_; ++j) x[j] = cell.x[p][j] + t * (cell.x[n][j] - cell.x[p][j]);
        add(above, x, common, id);
        add(below, x, common, id);
      }
    }
    pattern_[offset + neuron] = '0';
    descend(below, layer, neuron + 1, post, offset);
    pattern_[offset + neuron] = '1';
    descend(above, layer, neuron + 1, post, offset);
  }

  static void add(Cell& cell, const Vector& x, const std::vector<int>& on, int extra) {
    cell.x.push_back(x);
    std::vector<int> tight = on;
    if (extra >= 0) tight.insert(std::upper_bound(tight.begin(), tight.end(), extra), extra);
    cell.on.push_back(std::move(tight));
  }

  std::vector<ExactLayer> layers_;
  std::vector<int> widths_;
  int dim_;
  Cell root_;
  int next_id_ = 0;
  std::string pattern_;
  std::vector<Matrix> pre_;
  std::map<std::string, std::set<std::string>> found_;
  std::map<int, int> neuron_of_id_;

  // A constraint is a facet iff the vertices on it span d - 1 dimensions (exact rank).
  std::set<std::string> facets(const Cell& cell) const {
    std::map<int, std::vector<int>> on;
    for (std::size_t v = 0; v < cell.x.size(); ++v)
      for (int id : cell.on[v]) on[id].push_back(static_cast<int>(v));
    std::set<std::string> out;
    for (const auto& [id, vertices] : on) {
      if (static_cast<int>(vertices.size()) < dim_ || rank(cell, vertices) != dim_ - 1) continue;
      out.insert(id < 2 * dim_ ? "d" + std::to_string(id) : "n" + std::to_string(neuron_of_id_.at(id)));
    }
    return out;
  }

  int rank(const Cell& cell, const std::vector<int>& points) const {
    Matrix m;  // rows: differences to the first point
    for (std::size_t i = 1; i < points.size(); ++i) {
      Vector row(dim_);
      for (int j = 0; j < dim_; ++j) row[j] = cell.x[points[i]][j] - cell.x[points[0]][j];
      m.push_back(std::move(row));
    }
    int r = 0;
    for (int col = 0; col < dim_ && r < static_cast<int>(m.size()); ++col) {
      std::size_t pivot = r;
      while (pivot < m.size() && sgn(m[pivot][col]) == 0) ++pivot;
      if (pivot == m.size()) continue;
      std::swap(m[r], m[pivot]);
      for (std::size_t i = r + 1; i < m.size(); ++i) {
        if (sgn(m[i][col]) == 0) continue;
        const Rational f = m[i][col] / m[r][col];
        for (int j = col; j < dim_; ++j) m[i][j] -= f * m[r][j];
      }
      ++r;
    }
    return r;
  }
};

}  // namespace

Certificate certify_count(const Network& net, const Domain& domain, const EnumerateOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  net.validate();
  domain.validate();
  if (domain.dim() != net.input_dim())
    throw InputError("domain has dimension " + std::to_string(domain.dim()) + " but the network has " +
                     std::to_string(net.input_dim()) + " inputs");
  if (!domain.is_box()) throw InputError("--exact: only box domains are certified for now");
  if (domain.dim() > kMaxVertexGeometryDim)
    throw InputError("--exact: certification runs the vertex algorithm, up to " + std::to_string(kMaxVertexGeometryDim) +
                     " inputs; this network has " + std::to_string(domain.dim()));
  Certificate c;
  const std::map<std::string, std::set<std::string>> exact = ExactSearch(net, domain).run();
  // The float pass with its facets (vertex engine), named as the exact pass names them.
  std::map<std::string, std::set<std::string>> floating;
  EnumerateOptions counting = options;
  counting.engine = Engine::kVertex;
  counting.with_vertices = true;
  const std::vector<int> widths = net.hidden_widths();
  std::vector<int> offsets;
  for (int l = 0, offset = 0; l < static_cast<int>(net.layers.size()); ++l) {
    offsets.push_back(offset);
    if (net.layers[l].splits()) offset += net.layers[l].num_out();
  }
  enumerate_regions(net, domain, counting, [&](const Region& r) {
    std::set<std::string>& facets = floating[pattern_string(r.pattern, widths)];
    for (const Halfspace& h : r.halfspaces)
      facets.insert(h.origin.kind == HalfspaceOrigin::Kind::kDomain ? "d" + std::to_string(h.origin.neuron)
                                                                    : "n" + std::to_string(offsets[h.origin.layer] + h.origin.neuron));
  });
  c.certified = true;
  c.num_regions = exact.size();
  c.float_regions = floating.size();
  for (const auto& [p, facets] : exact) {
    const auto it = floating.find(p);
    if (it == floating.end()) {
      ++c.float_missed;
      if (c.missed_patterns.size() < 10) c.missed_patterns.push_back(p);
      continue;
    }
    c.facets_certified += facets.size();
    if (it->second != facets) ++c.float_facets_wrong;
  }
  for (const auto& [p, facets] : floating)
    if (!exact.count(p)) {
      ++c.float_invented;
      if (c.invented_patterns.size() < 10) c.invented_patterns.push_back(p);
    }
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return c;
}

}  // namespace relutope
