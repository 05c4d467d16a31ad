// Walking a plane through a graph network, unit by unit, with certified floating point: the 2-D
// analogue of segment_walk.cpp, sharing its values and error bounds (detail/graph_track.h, three
// columns: a point and two directions).
//
// Certification. Every value's error bound E0 + |s| E1 + |t| E2 is made uniform over the domain
// (E = E0 + S E1 + T E2 with S, T the largest |s|, |t| there): the true function f* and the computed
// f (double-double) differ by an affine function of size at most E on the domain. A cell is a convex
// polygon whose vertices are domain corners (exact) or crossings of two computed lines f, g; the true
// crossing x* lies in the domain and satisfies f*(x*) = g*(x*) = 0, so with M the 2x2 matrix of the
// computed (rounded) gradients and r the computed residuals at the computed crossing x,
//   ||x* - x||_inf <= ||M^-1||_inf max(E_f + R_f + |r_f|, E_g + R_g + |r_g|) =: delta(x),
// R covering the rounding of the lines to doubles. A line h is decided at a vertex only if
// |h(x)| > E_h + ||grad h||_1 delta(x) + (rounding of evaluating h(x)): then h* has the computed
// sign at the true vertex. An affine function that has one sign at every vertex of a convex polygon
// has it on the whole polygon, and a sign change along an edge puts exactly one true crossing on it,
// so the true cell is cut exactly as the computed one, and the count is that of the network as stored
// on the plane as given. A vertex that lies on a line that is h (or -h) as a true function has h* = 0
// there (the same hyperplane met again, as in the segment walk; the atoms' terms prove it, never
// identical bits alone: GraphTrack::same_function), as has h = p - q where p* and q* both vanish there
// (a PRelu output on its slope side is its input times a constant: zero where the input is), and at a domain corner on an axis the exact
// value (detail/exact_end.h) decides where the bound cannot.
#include "relutope/plane_walk.h"

#include <gmpxx.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <sstream>

#include <omp.h>

#include "detail/exact_end.h"
#include "detail/graph_track.h"
#include "detail/region_collector.h"
#include "relutope/error.h"

namespace relutope {

namespace {

using detail::DdFamily;
using detail::GraphTrack;
using detail::kRoundoff;
using detail::Term;
using detail::two_sum;

// An affine function a + b s + c t of the plane's coordinates as computed: the coefficients in
// double-double (hi + lo), a bound `err` on its distance to the true function over the domain, and
// the term it computes (detail::Term: a graph value, a constant or a domain edge). Two atoms are the
// same true function where the walker proves it from their terms (PlaneWalker::same), never from
// identical bits alone; the zero atom (all 0, err 0) is exactly 0.
struct Atom {
  double hi[3] = {0, 0, 0}, lo[3] = {0, 0, 0};
  double err = 0;
  Term term;

  bool is_zero() const {
    for (int k = 0; k < 3; ++k)
      if (hi[k] != 0 || lo[k] != 0) return false;
    return err == 0;
  }
};

// A line where the state changes: p - q = 0 for two atoms (a ReLU's input and zero, a clip's input
// and a bound, two inputs of a Max window, a domain edge and zero), and p - q computed in
// double-double, with its error bound (the atoms' and the difference's rounding).
struct Line2 {
  Atom p, q;
  double hi[3] = {0, 0, 0}, lo[3] = {0, 0, 0};
  double err = 0;
  bool zero = false;  // p and q are proven the same function: the line is 0

  bool is_zero() const { return zero; }
  double at(double s, double t) const { return (hi[0] + hi[1] * s + hi[2] * t) + (lo[0] + lo[1] * s + lo[2] * t); }
  // A bound on |at(s, t) - (the double-double line at (s, t))|: two sums of three terms, then one more.
  double rounding_at(double s, double t) const {
    return 8 * kRoundoff * (std::abs(hi[0]) + std::abs(hi[1] * s) + std::abs(hi[2] * t) + std::abs(lo[0]) +
                            std::abs(lo[1] * s) + std::abs(lo[2] * t));
  }
  // ||gradient||_1, rounded up.
  double gradient() const {
    return (std::abs(hi[1]) + std::abs(hi[2]) + std::abs(lo[1]) + std::abs(lo[2])) * (1 + 4 * kRoundoff);
  }
  // The exact value of the double-double line at (s, t).
  mpq_class exact_at(double s, double t) const {
    return mpq_class(hi[0]) + mpq_class(lo[0]) + (mpq_class(hi[1]) + mpq_class(lo[1])) * mpq_class(s) +
           (mpq_class(hi[2]) + mpq_class(lo[2])) * mpq_class(t);
  }
};

// The line p - q; `same`: p and q are proven the same function (the line is 0). Where q is zero it
// is p itself (no rounding); otherwise TwoSum of the high words is exact and adding the low parts
// rounds (at most u of them, over the domain's |s|, |t|).
Line2 line_between(const Atom& p, const Atom& q, double s_max, double t_max, bool same) {
  Line2 d;
  d.p = p;
  d.q = q;
  d.zero = same;
  if (q.is_zero()) {
    for (int k = 0; k < 3; ++k) d.hi[k] = p.hi[k], d.lo[k] = p.lo[k];
    d.err = p.err;
    return d;
  }
  double rounding[3];
  for (int k = 0; k < 3; ++k) {
    double ek;
    two_sum(p.hi[k], -q.hi[k], d.hi[k], ek);
    const double l = p.lo[k] - q.lo[k];
    d.lo[k] = ek + l;
    rounding[k] = 2 * kRoundoff * (std::abs(ek) + std::abs(l) + std::abs(p.lo[k]) + std::abs(q.lo[k]));
  }
  d.err = (p.err + q.err + rounding[0] + s_max * rounding[1] + t_max * rounding[2]) * (1 + 4 * kRoundoff);
  return d;
}

struct Vertex {
  double s = 0, t = 0;
  double delta = 0;  // the true vertex lies within delta of (s, t) in the max norm
  int corner = -1;   // the domain corner it is (exact), or -1
  // Lines known to vanish at the true vertex: the two it is the crossing of, and any that had the sign 0
  // there when they cut its cell.
  std::vector<std::pair<Atom, Atom>> on;
};

// Whether line f vanishes at the true vertex v: its two atoms are equal through the equalities p = q
// of the lines known to vanish there (for instance two ReLU inputs that are both 0 at their crossing,
// where any Max of the two is tied), or both are zero there. `zero_with(a, b)` gives, where there is
// one, an atom b that is zero exactly where a is: a PRelu or LeakyRelu output on its slope side is its
// input times a nonzero constant (exactly, in the network as stored), so it vanishes where that input
// does, although its atom is not the input's. `same(a, b)` tells whether atoms a and b are proven the
// same function.
template <class ZeroWith, class Same>
bool vanishes(const Line2& f, const Vertex& v, const ZeroWith& zero_with, const Same& same) {
  if (f.is_zero()) return true;
  // First without allocating (most lines meet no line through most vertices): f vanishes only if each
  // of its atoms is 0, or it or an atom zero exactly where it is is met by a line through v.
  auto tied = [&](const Atom& a) {
    if (a.is_zero()) return true;
    Atom x = a, next;
    for (;;) {
      for (const auto& [p, q] : v.on)
        if (same(p, x) || same(q, x)) return true;
      if (!zero_with(x, next)) return false;
      x = next;
    }
  };
  if (!tied(f.p) || !tied(f.q)) return false;
  std::vector<const Atom*> atoms;
  std::vector<int> group;
  auto index = [&](const Atom& a) {
    for (std::size_t i = 0; i < atoms.size(); ++i)
      if (same(*atoms[i], a)) return static_cast<int>(i);
    atoms.push_back(&a);
    group.push_back(static_cast<int>(group.size()));
    return static_cast<int>(atoms.size()) - 1;
  };
  for (const auto& [p, q] : v.on) {
    const int gp = group[index(p)], gq = group[index(q)];
    for (int& g : group)
      if (g == gq) g = gp;
  }
  auto group_of = [&](const Atom& a) {
    for (std::size_t i = 0; i < atoms.size(); ++i)
      if (same(*atoms[i], a)) return group[i];
    return -1;
  };
  const int gp = group_of(f.p);
  if (gp >= 0 && gp == group_of(f.q)) return true;
  const Atom zero;
  const int zero_group = group_of(zero);
  if (zero_group < 0) return false;
  auto is_zero = [&](const Atom& a) {
    Atom x = a, next;
    for (;;) {
      if (x.is_zero() || group_of(x) == zero_group) return true;
      if (!zero_with(x, next)) return false;
      x = next;
    }
  };
  return is_zero(f.p) && is_zero(f.q);
}

// A convex polygon, counter-clockwise; edge i runs from v[i] to v[i + 1] on line edge[i].
struct Cell {
  std::vector<Vertex> v;
  std::vector<Line2> edge;

  double area() const {
    double twice = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const Vertex& p = v[i];
      const Vertex& q = v[(i + 1) % v.size()];
      twice += p.s * q.t - q.s * p.t;
    }
    return 0.5 * twice;
  }
  Eigen::Vector2d centroid() const {
    Eigen::Vector2d c(0, 0);
    for (const Vertex& p : v) c += Eigen::Vector2d(p.s, p.t);
    return c / static_cast<double>(v.size());
  }
};

// What the domain gives every walker: its corners, the largest |s| and |t| in it, and the exact
// values at its corners on an axis.
struct PlaneSetup {
  Cell domain;
  double s_max = 0, t_max = 0;
  const Eigen::VectorXd* origin = nullptr;
  const Eigen::MatrixXd* directions = nullptr;
  const Eigen::MatrixXd* directions_lo = nullptr;
};

// A uniform bound over the domain from the error row (E0, E1, E2).
double uniform(const Eigen::MatrixXd& e, Eigen::Index r, const PlaneSetup& p) {
  return (e(r, 0) + p.s_max * e(r, 1) + p.t_max * e(r, 2)) * (1 + 4 * kRoundoff);
}

// Row r of a family as an atom, its error bound made uniform over the domain.
Atom atom_of(const DdFamily& x, const Eigen::MatrixXd& e, Eigen::Index r, const PlaneSetup& p, const Term& term) {
  Atom a;
  a.term = term;
  for (int k = 0; k < 3; ++k) {
    a.hi[k] = x.hi(r, k);
    a.lo[k] = x.lo(r, k);
  }
  a.err = uniform(e, r, p);
  return a;
}

// Row r of a family at (s, t), as computed (for choices that the certified tests then check).
double value_at(const DdFamily& x, Eigen::Index r, double s, double t) {
  return (x.hi(r, 0) + x.hi(r, 1) * s + x.hi(r, 2) * t) + (x.lo(r, 0) + x.lo(r, 1) * s + x.lo(r, 2) * t);
}

// Where a line was undecidable, for the message.
struct Doubt {
  double s = 0, t = 0, value = 0, bound = 0;
};

// Thrown inside a walker when the options stop the walk; the regions finished stay counted.
struct Stopped {};

// One cell of the search tree handed to another thread: the units before `depth` in `states`.
struct Task {
  std::size_t depth = 0;
  Cell cell;
  std::vector<std::vector<std::int64_t>> states;
};

// Shared between the threads.
struct Pool {
  std::mutex lock;
  std::condition_variable wake;
  std::deque<Task> queue;
  int idle = 0, active = 0;
  std::atomic<int> waiting{0};  // idle threads, read without the lock by walkers that could hand out cells
  std::atomic<std::int64_t> regions{0};
  double area_done = 0;  // under `lock`
  bool has_deadline = false;
  std::chrono::steady_clock::time_point deadline;
  std::atomic<bool> abort{false};
  std::atomic<bool> dropped{false};  // a cell left unwalked (stopped)
  std::exception_ptr error;
};

class PlaneWalker {
 public:
  PlaneWalker(const Graph& graph, const detail::WalkPrepared& prepared, const PlaneSetup& setup,
              const PlaneOptions& options, Pool& pool, double domain_area, int threads, detail::RegionCollector* collector)
      : g_(graph), prepared_(prepared), setup_(setup), options_(options), pool_(pool), units_(prepared.units),
        track_(graph, prepared, 3, options.certify), domain_area_(domain_area), threads_(threads), collector_(collector) {
    Eigen::MatrixXd hi(setup.origin->size(), 3), lo = Eigen::MatrixXd::Zero(setup.origin->size(), 3);
    hi.col(0) = *setup.origin;
    hi.rightCols(2) = *setup.directions;
    lo.rightCols(2) = *setup.directions_lo;
    track_.set_input(hi, lo);
  }

  // Walks a task: the values along its path recomputed, then its subtree.
  void run(const Task& task) {
    int first = 0;
    for (std::size_t k = 0; k < task.depth; ++k) {
      const int u = units_[k];
      track_.compute_affine(first, u);
      if (g_.nodes[u].kind == OpKind::kMax) track_.stack_inputs(u);
      track_.state(u) = task.states[k];
      track_.apply_unit(u);
      first = u + 1;
    }
    walk(task.depth, task.cell);
  }

  PlaneRegions result;

 private:
  bool should_stop() const {
    return (options_.stop && options_.stop->load(std::memory_order_relaxed)) || pool_.abort.load(std::memory_order_relaxed) ||
           (pool_.has_deadline && std::chrono::steady_clock::now() >= pool_.deadline);
  }
  bool cancelled() const { return options_.cancel && options_.cancel->load(std::memory_order_relaxed); }

  [[noreturn]] void uncertain(int unit, Eigen::Index element, const Doubt& at, const std::string& why) const {
    std::ostringstream out;
    out.precision(17);
    out << "cannot certify the regions near (s, t) = (" << at.s << ", " << at.t << "): unit node \"" << g_.nodes[unit].name
        << "\" (" << g_.nodes[unit].op_type << "), value " << element << ": " << why;
    out.precision(3);
    out << " (value " << at.value << ", error bound " << at.bound
        << "); floating point cannot separate these lines, so no count is given";
    throw UncertifiedError(out.str());
  }

  // The exact values of every node at domain corner c, when it lies on an axis and the graph is small
  // enough (null otherwise); computed once per walker and corner.
  const detail::ExactEnd* exact_at(int c) {
    if (prepared_.exact_work > detail::kExactEndWork) return nullptr;
    if (exact_.empty()) exact_.resize(setup_.domain.v.size());
    if (!exact_[c]) {
      const Vertex& p = setup_.domain.v[c];
      const int axis = p.t == 0 ? 0 : p.s == 0 ? 1 : -1;
      if (axis < 0) return nullptr;
      exact_[c] = std::make_unique<detail::ExactEnd>(detail::exact_end(
          g_, *setup_.origin, setup_.directions->col(axis), setup_.directions_lo->col(axis), axis == 0 ? p.s : p.t, 1));
    }
    return exact_[c].get();
  }

  // The atom that is zero exactly where atom a is (see vanishes): where a is value `element` of a
  // PRelu or LeakyRelu node on its slope side (slope not 0, for which a is the zero atom, nor 1), the
  // same value of its input, as it stands on the current cell; false otherwise.
  bool zero_with_input(const Atom& a, Atom& b) {
    const Term& t = a.term;
    if (t.node < 0 || g_.nodes[t.node].kind != OpKind::kRelu) return false;
    const GraphNode& node = g_.nodes[t.node];
    const std::vector<std::int64_t>& state = track_.state(t.node);
    if (t.element >= static_cast<std::int64_t>(state.size()) || state[t.element] != GraphTrack::kSlope) return false;
    const double slope = GraphTrack::relu_slope(node, t.element);
    if (slope == 0 || slope == 1) return false;
    const int in = node.inputs[0];
    b = atom_of(track_.value(in), track_.error(in), t.element, setup_, track_.term(in, t.element));
    return true;
  }

  // Whether atoms a and b are proven the same true function: the same term, or identical bits with
  // no error in either (each is then its true function), or GraphTrack::same_function's proof. Atoms
  // of one function are computed alike, so identical bits are asked for first (cheap).
  bool same(const Atom& a, const Atom& b) {
    if (a.term == b.term) return true;
    for (int k = 0; k < 3; ++k)
      if (a.hi[k] != b.hi[k] || a.lo[k] != b.lo[k]) return false;
    if (a.err == 0 && b.err == 0) return true;
    return track_.same_function(a.term, b.term);
  }

  // The sign (-1, 0, 1) of f at every vertex of `cell`, certified; false (and `doubt`) where one
  // cannot be.
  bool signs(const Line2& f, const Cell& cell, std::vector<int>& sign, Doubt& doubt) {
    const std::size_t n = cell.v.size();
    const auto zero_with = [this](const Atom& a, Atom& b) { return zero_with_input(a, b); };
    const auto same_atoms = [this](const Atom& a, const Atom& b) { return same(a, b); };
    sign.assign(n, 0);
    if (f.is_zero()) return true;  // exactly zero throughout
    const double gradient = f.gradient();
    for (std::size_t i = 0; i < n; ++i) {
      const Vertex& p = cell.v[i];
      if (vanishes(f, p, zero_with, same_atoms)) continue;  // 0
      const double value = f.at(p.s, p.t);
      const double bound = (f.err + gradient * p.delta) * (1 + 4 * kRoundoff) + f.rounding_at(p.s, p.t);
      if (std::abs(value) > bound) {
        sign[i] = value > 0 ? 1 : -1;
        if (bound > 0) least_margin_ = std::min(least_margin_, std::abs(value) / bound);
        continue;
      }
      int s = 0;
      if (p.corner >= 0 && corner_sign(f, p.corner, s)) {
        sign[i] = s;
        continue;
      }
      // On an edge of the domain, atoms exactly equal at both of its ends are equal all along it (two
      // inputs of a Max that are both 0 on the segment between two images, where both are blank).
      if (vanishes_on_edges(f, p)) continue;
      doubt = {p.s, p.t, value, bound};
      return false;
    }
    return true;
  }

  // The exact value of atom a at domain corner c, if at hand.
  bool exact_value(const Atom& a, int c, mpq_class& v) {
    if (a.term.node == -1) {
      v = a.term.level;
      return true;
    }
    if (a.err == 0) {  // the computed function is the true one
      Line2 f;
      for (int k = 0; k < 3; ++k) f.hi[k] = a.hi[k], f.lo[k] = a.lo[k];
      v = f.exact_at(setup_.domain.v[c].s, setup_.domain.v[c].t);
      return true;
    }
    const detail::ExactEnd* at = a.term.node >= 0 ? exact_at(c) : nullptr;
    if (!at) return false;
    v = at->value[a.term.node][a.term.element];
    return true;
  }

  // The exact sign of f at domain corner c: the computed line's exact value if it has no error, else
  // the exact values of its atoms; false if neither is at hand.
  bool corner_sign(const Line2& f, int c, int& s) {
    const Vertex& p = setup_.domain.v[c];
    if (f.err == 0) {
      s = sgn(f.exact_at(p.s, p.t));
      return true;
    }
    mpq_class a, b;
    if (!exact_value(f.p, c, a) || !exact_value(f.q, c, b)) return false;
    s = cmp(a, b);
    s = s > 0 ? 1 : s < 0 ? -1 : 0;
    return true;
  }

  // Whether f vanishes at vertex v, which lies on an edge of the domain: its atoms are equal through
  // the equalities of the lines through v and those that hold exactly at both ends of the edge.
  bool vanishes_on_edges(const Line2& f, const Vertex& v) {
    const std::size_t m = setup_.domain.v.size();
    const auto zero_with = [this](const Atom& a, Atom& b) { return zero_with_input(a, b); };
    const auto same_atoms = [this](const Atom& a, const Atom& b) { return same(a, b); };
    for (std::size_t k = 0; k < m; ++k) {
      const Line2& edge = setup_.domain.edge[k];
      if (std::none_of(v.on.begin(), v.on.end(), [&](const std::pair<Atom, Atom>& on) {
            return on.first.term == edge.p.term && on.second.term == edge.q.term;
          }))
        continue;
      std::vector<Atom> atoms{f.p, f.q, Atom{}};
      for (const auto& [a, b] : v.on) {
        if (a.term.node != -2) atoms.push_back(a);
        if (b.term.node != -2) atoms.push_back(b);
      }
      Vertex with = v;
      const int c0 = static_cast<int>(k), c1 = static_cast<int>((k + 1) % m);
      std::vector<mpq_class> at0(atoms.size()), at1(atoms.size());
      std::vector<bool> known(atoms.size());
      for (std::size_t i = 0; i < atoms.size(); ++i) known[i] = exact_value(atoms[i], c0, at0[i]) && exact_value(atoms[i], c1, at1[i]);
      for (std::size_t i = 0; i < atoms.size(); ++i)
        for (std::size_t j = i + 1; j < atoms.size(); ++j)
          if (known[i] && known[j] && at0[i] == at0[j] && at1[i] == at1[j]) with.on.emplace_back(atoms[i], atoms[j]);
      if (vanishes(f, with, zero_with, same_atoms)) return true;
    }
    return false;
  }

  // -1 or 1 if f keeps that sign on the cell (it may vanish at vertices), 0 if it is zero throughout,
  // 2 if it changes sign.
  static int verdict(const std::vector<int>& sign) {
    bool pos = false, neg = false;
    for (int s : sign) {
      pos = pos || s > 0;
      neg = neg || s < 0;
    }
    return pos && neg ? 2 : pos ? 1 : neg ? -1 : 0;
  }

  // The crossing of f with edge line g, and its distance bound (see the file comment).
  bool cross(const Line2& f, const Line2& g, Vertex& x) const {
    double a[2], b[2], c[2], big[2];
    const Line2* line[2] = {&f, &g};
    for (int k = 0; k < 2; ++k) {
      a[k] = line[k]->hi[0] + line[k]->lo[0];
      b[k] = line[k]->hi[1] + line[k]->lo[1];
      c[k] = line[k]->hi[2] + line[k]->lo[2];
      // The error of the true line against these doubles on the domain: its own, and the rounding of
      // each coefficient (u of it, over |s| <= s_max, |t| <= t_max).
      big[k] = line[k]->err + 2 * kRoundoff * (std::abs(a[k]) + std::abs(b[k]) * setup_.s_max + std::abs(c[k]) * setup_.t_max);
    }
    const double det = b[0] * c[1] - c[0] * b[1];
    const double det_error = 3 * kRoundoff * (std::abs(b[0] * c[1]) + std::abs(c[0] * b[1]));
    if (!(std::abs(det) > det_error)) return false;
    x.s = (c[0] * a[1] - a[0] * c[1]) / det;
    x.t = (a[0] * b[1] - b[0] * a[1]) / det;
    double worst = 0;
    for (int k = 0; k < 2; ++k) {
      const double r = a[k] + b[k] * x.s + c[k] * x.t;
      const double r_bound = std::abs(r) + 4 * kRoundoff * (std::abs(a[k]) + std::abs(b[k] * x.s) + std::abs(c[k] * x.t));
      worst = std::max(worst, big[k] + r_bound);
    }
    const double inverse = std::max(std::abs(c[1]) + std::abs(c[0]), std::abs(b[1]) + std::abs(b[0])) / (std::abs(det) - det_error);
    x.delta = inverse * worst * (1 + 16 * kRoundoff);
    x.corner = -1;
    if (!std::isfinite(x.s) || !std::isfinite(x.t) || !std::isfinite(x.delta)) return false;
    return true;
  }

  // The part of `cell` where side * f >= 0, given f's signs at its vertices (both signs occur).
  Cell clip(const Cell& cell, const std::vector<int>& sign, const Line2& f, int side, bool& ok) const {
    Cell out;
    const std::size_t n = cell.v.size();
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t j = (i + 1) % n;
      const int sp = side * sign[i], sq = side * sign[j];
      const Line2& edge = cell.edge[i];
      if (sp >= 0) {
        out.v.push_back(cell.v[i]);
        out.edge.push_back(sp == 0 && sq < 0 ? f : edge);
        if (sp == 0) out.v.back().on.emplace_back(f.p, f.q);
      }
      if ((sp > 0 && sq < 0) || (sp < 0 && sq > 0)) {
        Vertex x;
        if (!cross(f, edge, x)) ok = false;
        x.on = {{f.p, f.q}, {edge.p, edge.q}};
        out.v.push_back(x);
        out.edge.push_back(sp > 0 ? f : edge);
      }
    }
    return out;
  }

  // A piece of a cell on which unit u is decided: its state for each of the unit's `changing` values.
  struct Piece {
    Cell cell;
    std::vector<std::int64_t> state;
  };

  // Splits `pieces` by f (value `element` of unit u): each piece on which f changes sign becomes two,
  // and `record(piece, sign)` notes the sign on every piece.
  template <class Record>
  void split(int u, Eigen::Index element, const Line2& f, std::vector<Piece>& pieces, const Record& record) {
    std::vector<int> sign;
    Doubt doubt;
    const std::size_t n = pieces.size();
    for (std::size_t p = 0; p < n; ++p) {
      if (!signs(f, pieces[p].cell, sign, doubt))
        uncertain(u, element, doubt, "it is within its error bound of zero at a vertex of a cell");
      const int v = verdict(sign);
      if (v != 2) {
        record(pieces[p], v);
        continue;
      }
      bool ok = true;
      Piece below{clip(pieces[p].cell, sign, f, -1, ok), pieces[p].state};
      pieces[p].cell = clip(pieces[p].cell, sign, f, 1, ok);
      if (!ok) uncertain(u, element, {pieces[p].cell.v[0].s, pieces[p].cell.v[0].t, 0, 0}, "it is (nearly) parallel to an edge it crosses");
      record(pieces[p], 1);
      record(below, -1);
      pieces.push_back(std::move(below));
    }
  }

  // The pieces of `cell` for ReLU-family or clip unit u: the base states (state(u)) where every piece
  // agrees, `changing` the values that differ, and each piece's states for them.
  void relu_pieces(int u, const Cell& cell, std::vector<Eigen::Index>& changing, std::vector<Piece>& pieces) {
    const GraphNode& node = g_.nodes[u];
    const int in = node.inputs[0];
    const DdFamily& x = track_.value(in);
    const Eigen::MatrixXd& e = track_.error(in);
    std::vector<std::int64_t>& state = track_.state(u);
    state.assign(x.hi.rows(), GraphTrack::kPass);
    struct Crossing {
      Eigen::Index element;
      int bound;  // 0: a ReLU's zero, 1: a clip's lower bound, 2: its upper bound
      Line2 f;
    };
    std::vector<Crossing> crossing;
    std::vector<int> sign;
    Doubt doubt;
    for (Eigen::Index i = 0; i < x.hi.rows(); ++i) {
      for (int bound = 0; bound < 3; ++bound) {
        if ((node.kind == OpKind::kRelu) != (bound == 0)) continue;
        if (bound == 0 && GraphTrack::relu_slope(node, i) == 1) continue;  // linear
        const double c = bound == 1 ? node.lo : bound == 2 ? node.hi : 0.0;
        if (!std::isfinite(c)) continue;
        Atom level;  // 0, or the clip's bound
        level.hi[0] = level.term.level = c;
        const Atom value = atom_of(x, e, i, setup_, track_.term(in, i));
        const Line2 f = line_between(value, level, setup_.s_max, setup_.t_max, same(value, level));
if (!signs(f, cell, sign, doubt)) throw_doubt(u, i, doubt);
        const int v = verdict(sign);
        if (v == 2) {
          crossing.push_back({i, bound, f});
          continue;
        }
        if (bound == 0 && v < 0) state[i] = GraphTrack::kSlope;
        if (bound == 1 && v < 0) state[i] = GraphTrack::kAtLow;
        if (bound == 2 && v > 0) state[i] = GraphTrack::kAtHigh;
      }
    }
    changing.clear();
    std::vector<std::size_t> slot;  // crossing k -> index into changing
    for (const Crossing& k : crossing) {
      if (changing.empty() || changing.back() != k.element) changing.push_back(k.element);
      slot.push_back(changing.size() - 1);
    }
    pieces.assign(1, Piece{cell, {}});
    for (Eigen::Index i : changing) pieces[0].state.push_back(state[i]);
    for (std::size_t k = 0; k < crossing.size(); ++k) {
      const Crossing& c = crossing[k];
split(u, c.element, c.f, pieces, [&](Piece& piece, int side) {
        std::int64_t& s = piece.state[slot[k]];
        if (c.bound == 0) s = side < 0 ? GraphTrack::kSlope : GraphTrack::kPass;
        if (c.bound == 1 && side < 0) s = GraphTrack::kAtLow;
        if (c.bound == 2 && side > 0) s = GraphTrack::kAtHigh;
      });
    }
  }

  [[noreturn]] void throw_doubt(int u, Eigen::Index element, const Doubt& doubt) const {
    uncertain(u, element, doubt, "it is within its error bound of zero at a vertex of a cell");
  }

  // The pieces of `cell` for Max unit u (as relu_pieces): per window the region of each input that is
  // the largest, {x_i >= x_j for all j}; inputs that are the same function on a cell do not split it
  // and the lowest of them is the state.
  void max_pieces(int u, const Cell& cell, std::vector<Eigen::Index>& changing, std::vector<Piece>& pieces) {
    const GraphNode& node = g_.nodes[u];
    track_.stack_inputs(u);
    const DdFamily& x = track_.max_input(u);
    const Eigen::MatrixXd& e = track_.max_error(u);
    const SparseRows& windows = node.rows;
    std::vector<std::int64_t>& state = track_.state(u);
    state.resize(windows.num_rows());
    std::vector<int> sign;
    Doubt doubt;
    auto atom = [&](std::int64_t i) {
      const auto [node, element] = track_.max_source(u, i);
      return atom_of(x, e, i, setup_, track_.term(node, element));
    };
    auto identical = [&](std::int64_t i, std::int64_t j) { return same(atom(i), atom(j)); };
    auto difference = [&](std::int64_t i, std::int64_t j) {
      const Atom a = atom(i), b = atom(j);
      return line_between(a, b, setup_.s_max, setup_.t_max, same(a, b));
    };
    const Eigen::Vector2d mid = cell.centroid();
    changing.clear();
    for (std::int64_t w = 0; w < windows.num_rows(); ++w) {
      // The largest at the middle, then whether it stays the largest on the whole cell.
      std::int64_t best = windows.index[windows.start[w]];
      double best_value = value_at(x, best, mid[0], mid[1]);
      for (std::int64_t k = windows.start[w] + 1; k < windows.start[w + 1]; ++k) {
        const std::int64_t j = windows.index[k];
        const double v = value_at(x, j, mid[0], mid[1]);
        if (v > best_value) best = j, best_value = v;
      }
      std::int64_t pick = best;
      bool decided = true;
      for (std::int64_t k = windows.start[w]; k < windows.start[w + 1] && decided; ++k) {
        const std::int64_t j = windows.index[k];
        if (j == best) continue;
        if (identical(j, best)) {
          pick = std::min(pick, j);
          continue;
        }
        if (!signs(difference(best, j), cell, sign, doubt)) throw_doubt(u, w, doubt);
        const int v = verdict(sign);
        if (v == 0) pick = std::min(pick, j);  // the same function on the cell: a tie
        decided = v == 0 || v == 1;
      }
      if (decided) {
        state[w] = pick;
      } else {
        changing.push_back(w);
      }
    }
    pieces.assign(1, Piece{cell, std::vector<std::int64_t>(changing.size(), 0)});
    for (std::size_t k = 0; k < changing.size(); ++k) {
      const std::int64_t w = changing[k];
      // Candidates: one per group of identical inputs, the lowest index.
      std::vector<std::int64_t> candidates;
      for (std::int64_t m = windows.start[w]; m < windows.start[w + 1]; ++m) {
        const std::int64_t j = windows.index[m];
        bool repeated = false;
        for (std::int64_t c : candidates) repeated = repeated || identical(c, j);
        if (!repeated) candidates.push_back(j);
      }
      std::sort(candidates.begin(), candidates.end());
      std::vector<Piece> finer;
      for (Piece& piece : pieces) {
        for (std::int64_t i : candidates) {
          std::vector<Piece> part{Piece{piece.cell, piece.state}};
          bool empty = false;
          for (std::int64_t j : candidates) {
            if (j == i) continue;
            const Line2 d = difference(i, j);
            int kept = 0;  // the side of d on the part: -1 none of it is i's, 0 a tie, 1 all of it may be
            split(u, w, d, part, [&](Piece&, int side) { kept = side; });
            if (part.size() == 2) {  // cut: split keeps the side where x_i >= x_j first
              part.pop_back();
              continue;
            }
            if (kept < 0 || (kept == 0 && j < i)) {
              empty = true;
              break;
            }
          }
          if (empty) continue;
          part[0].state[k] = i;
          finer.push_back(std::move(part[0]));
        }
      }
      pieces.swap(finer);
    }
  }

  void walk(std::size_t k, const Cell& cell) {
    if (cancelled()) throw Cancelled("walk cancelled");
    if (should_stop()) throw Stopped{};
    if (k == units_.size()) {  // every unit decided: one region
      ++result.regions;
      if (collector_) {
        WalkedRegion region;
        for (const Vertex& v : cell.v) region.polygon.emplace_back(v.s, v.t);
        region.output = detail::RegionCollector::output_of(g_, track_);
        collector_->keep(collector_->make(track_, std::move(region)));
      }
      const std::int64_t regions = ++pool_.regions;
      const std::lock_guard<std::mutex> hold(pool_.lock);
      pool_.area_done += cell.area();
      if (options_.progress) options_.progress(pool_.area_done / domain_area_, regions);
      return;
    }
    const int first = k == 0 ? 0 : units_[k - 1] + 1;
    const int u = units_[k];
    track_.compute_affine(first, u);
    ++result.units_evaluated;
    std::vector<Eigen::Index> changing;
    std::vector<Piece> pieces;
    auto decide = [&] {
      if (g_.nodes[u].kind == OpKind::kMax)
        max_pieces(u, cell, changing, pieces);
      else
        relu_pieces(u, cell, changing, pieces);
    };
    try {
      decide();
    } catch (const UncertifiedError&) {
      // The double-double bounds cannot decide: recompute every value before u in triple-double and
      // decide again (segment_walk.cpp does the same).
      if (!options_.certify) throw;
      ++result.refinements;
      if (!track_.refine(u, [this] { return should_stop() || cancelled(); })) {
        if (cancelled()) throw Cancelled("walk cancelled");
        throw Stopped{};
      }
      try {
        decide();
      } catch (const UncertifiedError& again) {
        throw UncertifiedError(std::string(again.what()) +
                               " (also with every value before the unit recomputed in triple-double)");
      }
    }
    if (k + 1 == units_.size() && !collector_) {  // nothing reads the last unit's output: each piece is a region
      for (const Piece& piece : pieces) walk(k + 1, piece.cell);
      return;
    }
    std::vector<std::int64_t>& state = track_.state(u);
    for (std::size_t p = 0; p < pieces.size(); ++p) {
      for (std::size_t c = 0; c < changing.size(); ++c) state[changing[c]] = pieces[p].state[c];
      if (p + 1 < pieces.size() && hand_out(k + 1, pieces[p].cell)) continue;
      track_.apply_unit(u);
      walk(k + 1, pieces[p].cell);
    }
  }

  // Gives the cell below unit units_[depth - 1] (its states set) to an idle thread, if there is one.
  bool hand_out(std::size_t depth, const Cell& cell) {
    if (threads_ < 2 || pool_.waiting.load(std::memory_order_relaxed) == 0) return false;
    Task task;
    task.depth = depth;
    task.cell = cell;
    for (std::size_t j = 0; j < depth; ++j) task.states.push_back(track_.state(units_[j]));
    {
      const std::lock_guard<std::mutex> hold(pool_.lock);
      if (static_cast<int>(pool_.queue.size()) >= pool_.idle) return false;
      pool_.queue.push_back(std::move(task));
    }
    pool_.wake.notify_one();
    return true;
  }

  const Graph& g_;
  const detail::WalkPrepared& prepared_;
  const PlaneSetup& setup_;
  const PlaneOptions& options_;
  Pool& pool_;
  const std::vector<int>& units_;
  GraphTrack track_;
  double domain_area_;
  int threads_;
  std::vector<std::unique_ptr<detail::ExactEnd>> exact_;  // per domain corner (see exact_at)
  detail::RegionCollector* collector_;  // where the regions go (PlaneOptions::regions), or null

 public:
  double least_margin_ = std::numeric_limits<double>::infinity();
};

// The edge line through two corners: coefficients exactly as rationals, rounded to double-double,
// the rest (if any) in err.
Line2 edge_through(const Vertex& p, const Vertex& q, std::int64_t index, double s_max, double t_max) {
  const mpq_class ds = mpq_class(q.s) - mpq_class(p.s), dt = mpq_class(q.t) - mpq_class(p.t);
  // dt (s - p.s) - ds (t - p.t)
  const mpq_class coef[3] = {-dt * mpq_class(p.s) + ds * mpq_class(p.t), dt, -ds};
  Atom f;
  double rest = 0;
  for (int k = 0; k < 3; ++k) {
    f.hi[k] = coef[k].get_d();
    const mpq_class r = coef[k] - mpq_class(f.hi[k]);
    f.lo[k] = r.get_d();
    const double left = std::abs(mpq_class(r - mpq_class(f.lo[k])).get_d());
    rest += (left == 0 ? 0 : std::nextafter(left, 1e300)) * (k == 0 ? 1 : k == 1 ? s_max : t_max);
  }
  f.err = rest * (1 + 4 * kRoundoff);
  f.term = Term{-2, index, 0};
  return line_between(f, Atom{}, s_max, t_max, false);
}

}  // namespace

PlaneRegions regions_on_plane(const Graph& graph, const Eigen::VectorXd& origin, const Eigen::MatrixXd& directions,
                              const Eigen::MatrixXd& directions_lo_given, const std::vector<Eigen::Vector2d>& polygon,
                              const PlaneOptions& options) {
  const std::string where = graph.source.empty() ? std::string("graph") : graph.source;
  const Eigen::Index d = graph.input_dim();
  const Eigen::MatrixXd directions_lo =
      directions_lo_given.size() == 0 ? Eigen::MatrixXd(Eigen::MatrixXd::Zero(d, 2)) : directions_lo_given;
  if (origin.size() != d || directions.rows() != d || directions.cols() != 2 || directions_lo.rows() != d ||
      directions_lo.cols() != 2)
    throw InputError(where + ": the plane has " + std::to_string(origin.size()) + " coordinates and " +
                     std::to_string(directions.rows()) + "x" + std::to_string(directions.cols()) +
                     " directions, the network " + std::to_string(d) + " inputs (expected " + std::to_string(d) +
                     "x2)");
  if (!origin.allFinite() || !directions.allFinite() || !directions_lo.allFinite())
    throw InputError(where + ": the plane's origin and directions are not all finite");
  if (polygon.size() < 3) throw InputError("plane: the domain polygon needs at least 3 vertices, got " + std::to_string(polygon.size()));
  PlaneSetup setup;
  setup.origin = &origin;
  setup.directions = &directions;
  setup.directions_lo = &directions_lo;
  for (const Eigen::Vector2d& p : polygon) {
    if (!p.allFinite()) throw InputError("plane: the domain polygon's vertices are not all finite");
    setup.s_max = std::max(setup.s_max, std::abs(p[0]));
    setup.t_max = std::max(setup.t_max, std::abs(p[1]));
  }
  // Convex and counter-clockwise, exactly: every turn is to the left.
  const std::size_t n = polygon.size();
  for (std::size_t i = 0; i < n; ++i) {
    const Eigen::Vector2d &a = polygon[i], &b = polygon[(i + 1) % n], &c = polygon[(i + 2) % n];
    const mpq_class turn = (mpq_class(b[0]) - a[0]) * (mpq_class(c[1]) - b[1]) - (mpq_class(b[1]) - a[1]) * (mpq_class(c[0]) - b[0]);
    if (sgn(turn) <= 0)
      throw InputError("plane: the domain polygon must be convex and counter-clockwise with no repeated or collinear "
                       "vertices (vertex " + std::to_string((i + 1) % n) + " is not)");
  }
  for (std::size_t i = 0; i < n; ++i) {
    Vertex v;
    v.s = polygon[i][0];
    v.t = polygon[i][1];
    v.corner = static_cast<int>(i);
    setup.domain.v.push_back(v);
  }
  for (std::size_t i = 0; i < n; ++i)
    setup.domain.edge.push_back(
        edge_through(setup.domain.v[i], setup.domain.v[(i + 1) % n], static_cast<std::int64_t>(i), setup.s_max, setup.t_max));
  for (std::size_t i = 0; i < n; ++i)
    for (const Line2* edge : {&setup.domain.edge[(i + n - 1) % n], &setup.domain.edge[i]})
      setup.domain.v[i].on.emplace_back(edge->p, edge->q);
  const double area = setup.domain.area();

  const detail::WalkPrepared prepared(graph);
  Pool pool;
  if (options.time_limit > 0) {
    pool.has_deadline = true;
    pool.deadline = std::chrono::steady_clock::now() +
                    std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(options.time_limit));
  }
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
  pool.queue.push_back(Task{0, setup.domain, {}});
  PlaneRegions result;
  std::unique_ptr<detail::RegionCollector> collector;
  if (options.regions) collector = std::make_unique<detail::RegionCollector>(graph, *options.regions);
#pragma omp parallel num_threads(threads)
  {
    PlaneWalker walker(graph, prepared, setup, options, pool, area, threads, collector.get());
    for (;;) {
      Task task;
      {
        std::unique_lock<std::mutex> hold(pool.lock);
        while (pool.queue.empty() && pool.active > 0 && !pool.abort) {
          ++pool.idle;
          ++pool.waiting;
          pool.wake.wait(hold);
          --pool.idle;
          --pool.waiting;
        }
        if (pool.queue.empty() || pool.abort) break;
        task = std::move(pool.queue.front());
        pool.queue.pop_front();
        ++pool.active;
      }
      bool stopped = false;
      try {
        walker.run(task);
      } catch (const Stopped&) {
        stopped = true;
      } catch (...) {
        const std::lock_guard<std::mutex> hold(pool.lock);
        if (!pool.error) pool.error = std::current_exception();
        pool.abort = true;
      }
      {
        const std::lock_guard<std::mutex> hold(pool.lock);
        --pool.active;
        if (stopped) {
          pool.dropped = true;
          pool.queue.clear();  // the rest is left unwalked
        }
      }
      pool.wake.notify_all();
    }
#pragma omp critical(relutope_plane_result)
    {
      result.regions += walker.result.regions;
      result.units_evaluated += walker.result.units_evaluated;
      result.refinements += walker.result.refinements;
      result.least_margin = std::min(result.least_margin, walker.least_margin_);
    }
  }
  if (pool.error) std::rethrow_exception(pool.error);
  if (collector) collector->finish();
  result.complete = !pool.dropped;
  result.area_done = result.complete ? 1.0 : pool.area_done / area;
  return result;
}

PlaneRegions regions_in_triangle(const Graph& graph, const Eigen::VectorXd& p0, const Eigen::VectorXd& p1,
                                 const Eigen::VectorXd& p2, double scale, const PlaneOptions& options) {
  if (p0.size() != p1.size() || p0.size() != p2.size())
    throw InputError("plane: the three points have " + std::to_string(p0.size()) + ", " + std::to_string(p1.size()) +
                     " and " + std::to_string(p2.size()) + " coordinates");
  if (!(scale > 0 && scale <= 1)) {
    std::ostringstream message;
    message << "plane: the triangle's scale must be in (0, 1], got " << scale;
    throw InputError(message.str());
  }
  if (!p0.allFinite() || !p1.allFinite() || !p2.allFinite()) throw InputError("plane: the three points are not all finite");
  // p1 - p0 and p2 - p0 exactly, as hi + lo (TwoSum).
  Eigen::MatrixXd hi(p0.size(), 2), lo(p0.size(), 2);
  for (Eigen::Index i = 0; i < p0.size(); ++i) {
    two_sum(p1[i], -p0[i], hi(i, 0), lo(i, 0));
    two_sum(p2[i], -p0[i], hi(i, 1), lo(i, 1));
  }
  if (!hi.allFinite() || !lo.allFinite()) throw InputError("plane: a difference of the points overflows doubles");
  // Collinear points span no plane (exactly: every 2x2 minor of the two differences vanishes).
  bool spans = false;
  {
    const Eigen::VectorXd a = hi.col(0), b = hi.col(1);
    const double scale_ab = a.norm() * b.norm();
    const double cross = std::sqrt(std::max(0.0, a.squaredNorm() * b.squaredNorm() - a.dot(b) * a.dot(b)));
    spans = scale_ab > 0 && cross > 1e-9 * scale_ab;
  }
  if (!spans) throw InputError("plane: the three points are (nearly) collinear: they span no plane");
  return regions_on_plane(graph, p0, hi, lo, {Eigen::Vector2d(0, 0), Eigen::Vector2d(scale, 0), Eigen::Vector2d(0, scale)},
                          options);
}

}  // namespace relutope
