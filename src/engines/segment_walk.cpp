// Walking a segment through a graph network, unit by unit, with certified floating point.
//
// Every value of the graph on the current sub-segment is affine in t: a point a and a direction b
// (the "family" of apply_affine, two columns), carried in double-double (hi + lo, apply_affine_dd),
// and beside it a bound (Ea, Eb) on the rounding error of each, so that the true value at t lies
// within Ea + |t| Eb of the computed one. Affine nodes propagate the bound as
// E_y = |op|(E_x + g_n |x|) + g_n |shift|, where |op| is the node with the absolute values of its
// weights and no shift, and g_n = dd_dot_error(n) ~ 3 n^2 u^2 for a fan-in n (u = 2^-53).
// The values and their bounds are kept by detail::GraphTrack (detail/graph_track.h), which the plane
// walk (plane_walk.cpp) shares, with why they are double-double.
#include "relutope/segment.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <memory>
#include <mutex>
#include <sstream>

#include <omp.h>

#include "detail/affine_dd.h"
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


// An affine function a + b t of the segment's parameter, a and b in double-double.
struct Line {
  double a = std::numeric_limits<double>::quiet_NaN(), a_lo = 0;
  double b = std::numeric_limits<double>::quiet_NaN(), b_lo = 0;

  // The value at t, and a bound on the error of computing it in double.
  double at(double t) const { return (a + b * t) + (a_lo + b_lo * t); }
  double rounding_at(double t) const { return 3 * kRoundoff * (std::abs(a) + std::abs(b * t) + std::abs(a_lo) + std::abs(b_lo * t)); }
  // The zero of the line (b != 0), rounded: within 4 u |t| of the exact zero of a + b t.
  double zero() const { return -(a + a_lo) / (b + b_lo); }
};

// Row r of a double-double family as a line.
Line line_of(const DdFamily& x, Eigen::Index r) { return {x.hi(r, 0), x.lo(r, 0), x.hi(r, 1), x.lo(r, 1)}; }

// Row i minus row j: the difference of two lines, computed in double-double; the rounding of the
// low parts (at most u of them) goes into `rounding`.
Line difference(const DdFamily& x, Eigen::Index i, Eigen::Index j, double& rounding_a, double& rounding_b) {
  Line d;
  double ea, eb;
  two_sum(x.hi(i, 0), -x.hi(j, 0), d.a, ea);
  two_sum(x.hi(i, 1), -x.hi(j, 1), d.b, eb);
  const double la = x.lo(i, 0) - x.lo(j, 0), lb = x.lo(i, 1) - x.lo(j, 1);
  d.a_lo = ea + la;
  d.b_lo = eb + lb;
  rounding_a = 2 * kRoundoff * (std::abs(ea) + std::abs(la) + std::abs(x.lo(i, 0)) + std::abs(x.lo(j, 0)));
  rounding_b = 2 * kRoundoff * (std::abs(eb) + std::abs(lb) + std::abs(x.lo(i, 1)) + std::abs(x.lo(j, 1)));
  return d;
}

// A point where the state changes, with the half-width of the interval its true position lies in,
// and the terms p, q (detail::Term) whose difference vanishes there, so that the same function met
// again is recognised as the same cut (Walker::same_cut: proven from the terms, never from identical
// bits alone).
struct Cut {
  double t = 0;
  double window = 0;
  Term p{-2, -1, 0}, q{-2, -1, 0};  // an end or chunk boundary: no function
  bool segment_end = false;  // an end of the whole segment (exact), not a cut nor a chunk boundary
  bool chunk_boundary = false;  // a boundary between two chunks the threads walk (see pieces_on_segment)
};

// Shared between the threads: the pieces and the length of segment finished, for progress, and
// when to stop.
struct Tally {
  std::atomic<std::int64_t> pieces{0};
  std::atomic<std::int64_t> units_evaluated{0};
  double length_done = 0;  // under `lock`
  std::mutex lock;
  bool has_deadline = false;
  std::chrono::steady_clock::time_point deadline;
  std::atomic<bool> abort{false};  // another chunk failed: the result is an error, stop walking
};

// Thrown inside a walker when SegmentOptions::stop or time_limit ends the walk; Walker::run turns it
// into a partial result.
struct Stopped {};

class Walker {
 public:
  Walker(const Graph& graph, const detail::WalkPrepared& prepared, const SegmentOptions& options, Tally& tally,
         detail::RegionCollector* collector)
      : g_(graph), options_(options), units_(prepared.units), prepared_(prepared), tally_(tally),
        track_(graph, prepared, 2, options.certify), collector_(collector) {}

  /// The pieces the last run finished (with a collector), in order of t, and for each whether it
  /// starts at a chunk boundary (where it continues the last piece of the chunk before).
  std::vector<WalkedRegion> leaves;
  std::vector<char> leaf_starts_chunk;

  // The pieces on [t_begin, t_end] of the line origin + t (direction + direction_lo): the direction
  // in double-double, so that the difference of two points is exact.
  SegmentPieces run(const Eigen::VectorXd& origin, const Eigen::VectorXd& direction, const Eigen::VectorXd& direction_lo,
                    double t_begin, double t_end) {
    origin_ = &origin;
    direction_ = &direction;
    direction_lo_ = &direction_lo;
    Eigen::MatrixXd hi(origin.size(), 2), lo = Eigen::MatrixXd::Zero(origin.size(), 2);
    hi.col(0) = origin;
    hi.col(1) = direction;
    lo.col(1) = direction_lo;
    track_.set_input(hi, lo);
    segment_end_ = t_end;
    result_ = SegmentPieces{};
    Cut begin, end;
    begin.t = t_begin;
    end.t = t_end;
    begin.segment_end = t_begin == options_.t_begin;
    end.segment_end = t_end == options_.t_end;
    begin.chunk_boundary = !begin.segment_end;
    end.chunk_boundary = !end.segment_end;
    result_.t_reached = t_begin;
    boundary_failure_ = false;
    leaves.clear();
    leaf_starts_chunk.clear();
    try {
      walk(0, begin, end);
    } catch (const Stopped&) {
      result_.complete = false;
    }
    return std::move(result_);
  }

  // Whether the UncertifiedError that ended the last run came from a chunk boundary: a cut or a value
  // within its error bound of it, which walking the two chunks as one avoids.
  bool boundary_failure() const { return boundary_failure_; }
  double failed_boundary() const { return failed_boundary_; }

 private:
  // Before an UncertifiedError: remember when `at` is a chunk boundary (see boundary_failure).
  void note_boundary(const Cut& at) {
    if (!at.chunk_boundary) return;
    boundary_failure_ = true;
    failed_boundary_ = at.t;
  }

  double error_at(const Eigen::MatrixXd& e, Eigen::Index r, double t) const { return e(r, 0) + std::abs(t) * e(r, 1); }

  // Whether p - q (up to sign) is proven to be the function that vanishes at `cut`.
  bool same_cut(const Cut& cut, const Term& p, const Term& q) {
    return (track_.same_function(cut.p, p) && track_.same_function(cut.q, q)) ||
           (track_.same_function(cut.p, q) && track_.same_function(cut.q, p));
  }

  [[noreturn]] void uncertain(int unit, Eigen::Index element, double t, const std::string& why) const {
    std::ostringstream out;
    out.precision(17);
    out << "cannot certify the pieces near t = " << t << ": unit node \"" << g_.nodes[unit].name << "\" ("
        << g_.nodes[unit].op_type << "), value " << element << ": " << why
        << "; floating point cannot separate these cuts, so no count is given";
    throw UncertifiedError(out.str());
  }

  // The exact values and slopes of every node at an exact end of the segment, just inside it
  // (detail/exact_end.h), computed once per walker and end when first needed; null where the end is
  // not an end of the segment or the graph is too large to recompute.
  const detail::ExactEnd* exact_at(const Cut& end) {
    if (!end.segment_end || prepared_.exact_work > detail::kExactEndWork) return nullptr;
    const int k = end.t == options_.t_begin ? 0 : 1;
    if (!exact_[k])
      exact_[k] = std::make_unique<detail::ExactEnd>(detail::exact_end(g_, *origin_, *direction_, *direction_lo_, end.t, k == 0 ? 1 : -1));
    return exact_[k].get();
  }

  // The sign of v + s (t - end) on the sub-segment [lo, hi] next to an exact end: +1 or -1 if it keeps
  // one sign inside (it may vanish at the end itself), 0 if it is zero throughout (v = s = 0), 2 if it
  // vanishes inside (a cut this does not place: left to the caller, which cannot certify it).
  static int inward_sign(const mpq_class& v, const mpq_class& s, const Cut& end, const Cut& lo, const Cut& hi) {
    const int side = &end == &lo ? 1 : -1;
    const int sv = sgn(v), ss = side * sgn(s);
    if (sv == 0) return ss;
    if (ss == 0 || ss == sv) return sv;
    // Heading for zero: it keeps its sign if the zero lies beyond the other end, |v| > |s| (hi - lo).
    return cmp(abs(v), abs(s) * (mpq_class(hi.t) - mpq_class(lo.t))) > 0 ? sv : 2;
  }

  // The crossing of f(t) = a + b t (error ea + |t| eb), computed for terms p - q, with 0 on [lo, hi],
  // if it crosses there. Returns false when f keeps one certified sign on the sub-segment. `exact`
  // gives f's exact value and slope at an exact end of the segment, for where the bound cannot tell
  // its sign there.
  template <class Exact>
  bool crossing(int unit, Eigen::Index element, const Line& f, const Term& p, const Term& q, double ea, double eb,
                const Cut& lo, const Cut& hi, Cut& cut, const Exact& exact) {
    const double f_lo = f.at(lo.t), f_hi = f.at(hi.t);
    const double slope = std::abs(f.b) + std::abs(f.b_lo);
    const double err_lo = ea + std::abs(lo.t) * eb + slope * lo.window + f.rounding_at(lo.t);
    const double err_hi = ea + std::abs(hi.t) * eb + slope * hi.window + f.rounding_at(hi.t);
    const bool lo_sure = std::abs(f_lo) > err_lo, hi_sure = std::abs(f_hi) > err_hi;
    if (f.a == 0 && f.b == 0 && f.a_lo == 0 && f.b_lo == 0 && ea == 0 && eb == 0) return false;  // exactly zero throughout
    auto place = [&] {
      const double least_slope = std::abs(f.b) * (1 - 2 * kRoundoff) - eb;  // |b + b_lo| - eb, rounded down
      if (least_slope <= 0) uncertain(unit, element, lo.t, "its slope is within its error bound");
      cut.t = f.zero();
      cut.window = (ea + std::abs(cut.t) * eb) / least_slope + 4 * kRoundoff * std::abs(cut.t);
      cut.p = p;
      cut.q = q;
      return true;
    };
    if (lo_sure && hi_sure) {
      if ((f_lo > 0) == (f_hi > 0)) return false;
      return place();
    }
    // An end within the error bound: fine only if that end is exactly this function's zero (the same
    // hyperplane met again, as proven by the terms, or an exact zero with no error at an exact end),
    // and then the other end decides.
    auto zero_at = [&](const Cut& end, double value, double err) {
      return same_cut(end, p, q) || (value == 0 && err == 0 && end.segment_end);
    };
    if (!lo_sure && hi_sure && zero_at(lo, f_lo, err_lo)) return false;
    if (!hi_sure && lo_sure && zero_at(hi, f_hi, err_hi)) return false;
    // At an exact end of the segment, the exact value and slope there decide: a unit exactly at its
    // breakpoint at the end and nonzero inside is no tie; its sign inside is that of its slope.
    mpq_class v, s;
    const int sign_lo = lo_sure ? (f_lo > 0 ? 1 : -1) : exact(lo, v, s) ? inward_sign(v, s, lo, lo, hi) : 2;
    const int sign_hi = hi_sure ? (f_hi > 0 ? 1 : -1) : exact(hi, v, s) ? inward_sign(v, s, hi, lo, hi) : 2;
    if (sign_lo != 2 && sign_hi != 2) {
      if (sign_lo == 0 || sign_hi == 0) {  // zero on the whole sub-segment: both states give 0
        if (sign_lo == sign_hi) return false;
      } else if (sign_lo == sign_hi) {
        // No cut; the states are read off the computed line at the middle, which must agree.
        const double mid = f.at(0.5 * (lo.t + hi.t));
        if ((mid > 0 ? 1 : mid < 0 ? -1 : 0) == sign_lo) return false;
      } else {
        return place();  // a cut away from the ends (check_gap separates it from them)
      }
    }
    std::ostringstream why;
    why.precision(3);
    why << "it vanishes within its error bound of a cut or an end of the segment (value " << (lo_sure ? f_hi : f_lo)
        << ", error bound " << (lo_sure ? err_hi : err_lo) << "; a + b t with a = " << f.a << ", b = " << f.b
        << ", errors " << ea << " and " << eb << ")";
    if (!lo_sure) note_boundary(lo);
    if (!hi_sure) note_boundary(hi);
    uncertain(unit, element, lo_sure ? hi.t : lo.t, why.str());
  }

  // The cuts of a ReLU-family or clip unit on [lo, hi].
  void unit_cuts(int u, const Cut& lo, const Cut& hi, std::vector<Cut>& cuts) {
    const GraphNode& node = g_.nodes[u];
    const DdFamily& x = track_.value(node.inputs[0]);
    const Eigen::MatrixXd& e = track_.error(node.inputs[0]);
    Cut cut;
    for (Eigen::Index i = 0; i < x.hi.rows(); ++i) {
      if (node.kind == OpKind::kRelu) {
        if (GraphTrack::relu_slope(node, i) == 1) continue;  // linear
        auto exact = [&](const Cut& end, mpq_class& v, mpq_class& s) {
          const detail::ExactEnd* at = exact_at(end);
          if (!at) return false;
          v = at->value[node.inputs[0]][i];
          s = at->slope[node.inputs[0]][i];
          return true;
        };
        if (crossing(u, i, line_of(x, i), track_.term(node.inputs[0], i), Term{}, e(i, 0), e(i, 1), lo, hi, cut, exact))
          cuts.push_back(cut);
        continue;
      }
      for (double c : {node.lo, node.hi}) {
        if (!std::isfinite(c)) continue;
        // x - c in double-double: TwoSum is exact, adding the low part rounds (at most u of it).
        Line f = line_of(x, i);
        double rest;
        two_sum(f.a, -c, f.a, rest);
        const double a_lo = rest + f.a_lo;
        const double rounding = kRoundoff * (std::abs(rest) + std::abs(f.a_lo));
        f.a_lo = a_lo;
        auto exact = [&](const Cut& end, mpq_class& v, mpq_class& s) {
          const detail::ExactEnd* at = exact_at(end);
          if (!at) return false;
          v = at->value[node.inputs[0]][i] - c;
          s = at->slope[node.inputs[0]][i];
          return true;
        };
        if (crossing(u, i, f, track_.term(node.inputs[0], i), Term{-1, 0, c}, e(i, 0) + rounding, e(i, 1), lo, hi, cut,
                     exact))
          cuts.push_back(cut);
      }
    }
  }

  // Entry `index` of the stacked inputs of Max node u as a term.
  Term term(int u, std::int64_t index) const {
    const auto [node, element] = track_.max_source(u, index);
    return track_.term(node, element);
  }

  // The exact value and slope of entry `index` of the stacked inputs of Max node u.
  const mpq_class& exact_value(const detail::ExactEnd& ex, int u, std::int64_t index) const {
    const auto [node, element] = track_.max_source(u, index);
    return ex.value[node][element];
  }
  const mpq_class& exact_slope(const detail::ExactEnd& ex, int u, std::int64_t index) const {
    const auto [node, element] = track_.max_source(u, index);
    return ex.slope[node][element];
  }
  // The index (into the stacked input) of the largest entry of window w at t; ties (identical
  // lines) go to the lowest index, near-ties are resolved by the larger slope to the right of t.
  static std::int64_t argmax_at(const SparseRows& windows, std::int64_t w, const DdFamily& x, double t) {
    std::int64_t best = windows.index[windows.start[w]];
    double best_value = line_of(x, best).at(t);
    for (std::int64_t k = windows.start[w] + 1; k < windows.start[w + 1]; ++k) {
      const std::int64_t j = windows.index[k];
      const double v = line_of(x, j).at(t);
      if (v > best_value || (v == best_value && x.hi(j, 1) + x.lo(j, 1) > x.hi(best, 1) + x.lo(best, 1))) {
        best = j;
        best_value = v;
      }
    }
    return best;
  }

  // The cuts of a Max unit on [lo, hi]: the breakpoints of each window's upper envelope, each
  // certified against the other lines of its window.
  void max_cuts(int u, const Cut& lo, const Cut& hi, std::vector<Cut>& cuts) {
    const GraphNode& node = g_.nodes[u];
    track_.stack_inputs(u);
    const DdFamily& x = track_.max_input(u);
    const Eigen::MatrixXd& e = track_.max_error(u);
    const SparseRows& windows = node.rows;
    auto identical = [&](std::int64_t i, std::int64_t j) { return track_.same_function(term(u, i), term(u, j)); };
    // The slope of line i minus that of line j, in double-double, compared with 0.
    auto steeper = [&](std::int64_t i, std::int64_t j) {
      double ra, rb;
      const Line d = difference(x, i, j, ra, rb);
      return d.b > 0 || (d.b == 0 && d.b_lo > 0);
    };
    // Lines i and j at a cut: certified apart (false), or their difference is the cut's own function,
    // so that they meet exactly there (true); anything else cannot be certified.
    auto near = [&](std::int64_t w, std::int64_t i, std::int64_t j, const Cut& at) {
      if (identical(i, j)) return false;
      double ra, rb;
      const Line d = difference(x, i, j, ra, rb);
      const double gap = std::abs(d.at(at.t));
      const double err = e(i, 0) + e(j, 0) + ra + std::abs(at.t) * (e(i, 1) + e(j, 1) + rb) +
                         (std::abs(d.b) + std::abs(d.b_lo)) * at.window + d.rounding_at(at.t);
      if (gap > err) return false;
      if (same_cut(at, term(u, i), term(u, j))) return true;
      // Exactly equal, with no error, at an exact end of the segment (two blank patches of an image
      // that the segment's direction tells apart): they meet there and nowhere inside.
      if (gap == 0 && err == 0 && at.segment_end) return true;
      // At an exact end of the segment the exact values decide: equal, they meet there; i above j, the
      // envelope is right there (a crossing inside is found and separated as any other).
      if (const detail::ExactEnd* ex = exact_at(at)) {
        const int c = cmp(exact_value(*ex, u, i), exact_value(*ex, u, j));
        if (c == 0) return true;
        if (c > 0) return false;
      }
      note_boundary(at);
      uncertain(u, w, at.t, "two inputs of the window are within their error bounds of each other at a cut");
    };
    for (std::int64_t w = 0; w < windows.num_rows(); ++w) {
      // Right after lo the largest line is the steepest of those that meet the largest exactly at lo.
      const std::int64_t largest = argmax_at(windows, w, x, lo.t);
      std::int64_t current = largest;
      for (std::int64_t k = windows.start[w]; k < windows.start[w + 1]; ++k) {
        const std::int64_t j = windows.index[k];
        if (j == largest || !near(w, largest, j, lo)) continue;
        // Equal at an exact start of the segment: the exact slopes decide, and the computed ones must agree.
        const detail::ExactEnd* ex = identical(j, current) ? nullptr : exact_at(lo);
        if (!ex) {
          if (steeper(j, current)) current = j;
          continue;
        }
        const int c = cmp(exact_slope(*ex, u, j), exact_slope(*ex, u, current));
        if (c == 0 || (c > 0) != steeper(j, current))
          uncertain(u, w, lo.t, "two inputs of the window meet at the start of the segment with slopes that floating point does not order");
        if (c > 0) current = j;
      }
      Cut from = lo;
      for (;;) {
        // The next line to overtake `current`: the earliest crossing after `from` among steeper lines.
        Cut next;
        std::int64_t next_line = -1;
        for (std::int64_t k = windows.start[w]; k < windows.start[w + 1]; ++k) {
          const std::int64_t j = windows.index[k];
          if (!steeper(j, current) || identical(j, current)) continue;
          double ra, rb;
          const Line d = difference(x, current, j, ra, rb);
          const double t = d.zero();
          if (!(t > from.t) || !(t < hi.t)) continue;
          if (next_line < 0 || t < next.t || (t == next.t && steeper(j, next_line))) {
            next_line = j;
            next.t = t;
            const double ea = e(current, 0) + e(j, 0) + ra, eb = e(current, 1) + e(j, 1) + rb;
            const double least_slope = std::abs(d.b) * (1 - 2 * kRoundoff) - eb;
            if (least_slope <= 0) uncertain(u, w, t, "two inputs of the window have slopes within their error bounds");
            next.window = (ea + std::abs(t) * eb) / least_slope + 4 * kRoundoff * std::abs(t);
            next.p = term(u, current);
            next.q = term(u, j);
          }
        }
        if (next_line < 0) break;
        // Every other line stays clear of the envelope at the cut.
        for (std::int64_t k = windows.start[w]; k < windows.start[w + 1]; ++k) {
          const std::int64_t j = windows.index[k];
          if (j != current && j != next_line && !identical(j, current) && !identical(j, next_line))
            near(w, current, j, next);
        }
        cuts.push_back(next);
        current = next_line;
        from = next;
      }
      for (std::int64_t k = windows.start[w]; k < windows.start[w + 1]; ++k)
        if (windows.index[k] != current) near(w, current, windows.index[k], hi);
    }
  }

  // The unit's output on a sub-segment whose interior holds `t`.
  void apply_states(int u, double t) {
    const GraphNode& node = g_.nodes[u];
    std::vector<std::int64_t>& state = track_.state(u);
    if (node.kind == OpKind::kMax) {
      const SparseRows& windows = node.rows;
      const DdFamily& x = track_.max_input(u);
      state.resize(windows.num_rows());
      for (std::int64_t w = 0; w < windows.num_rows(); ++w) {
        // The lowest index among lines identical to the largest.
        const std::int64_t best = argmax_at(windows, w, x, t);
        std::int64_t pick = best;
        for (std::int64_t k = windows.start[w]; k < windows.start[w + 1]; ++k) {
          const std::int64_t j = windows.index[k];
          if (j < pick && track_.same_function(term(u, j), term(u, best))) pick = j;
        }
        state[w] = pick;
      }
    } else {
      const DdFamily& x = track_.value(node.inputs[0]);
      state.assign(x.hi.rows(), GraphTrack::kPass);
      for (Eigen::Index i = 0; i < x.hi.rows(); ++i) {
        const double v = line_of(x, i).at(t);
        if (node.kind == OpKind::kRelu) {
          if (v < 0) state[i] = GraphTrack::kSlope;
        } else if (v < node.lo || v > node.hi) {
          state[i] = v < node.lo ? GraphTrack::kAtLow : GraphTrack::kAtHigh;
        }
      }
    }
    track_.apply_unit(u);
  }

  bool should_stop() const {
    return (options_.stop && options_.stop->load(std::memory_order_relaxed)) || tally_.abort.load(std::memory_order_relaxed) ||
           (tally_.has_deadline && std::chrono::steady_clock::now() >= tally_.deadline);
  }

  void walk(std::size_t k, const Cut& lo, const Cut& hi) {
    if (options_.cancel && options_.cancel->load(std::memory_order_relaxed)) throw Cancelled("walk cancelled");
    if (should_stop()) throw Stopped{};
    const int first = k == 0 ? 0 : units_[k - 1] + 1;
    if (k == units_.size()) {  // every unit decided: one linear piece
      ++result_.pieces;
      result_.t_reached = hi.t;
      if (options_.keep_breakpoints && hi.t != segment_end_) result_.breakpoints.push_back(hi.t);
      if (collector_) {
        WalkedRegion piece;
        piece.t_begin = lo.t;
        piece.t_end = hi.t;
        piece.output = detail::RegionCollector::output_of(g_, track_);
        leaves.push_back(collector_->make(track_, std::move(piece)));
        leaf_starts_chunk.push_back(lo.chunk_boundary);
      }
      const std::int64_t pieces = ++tally_.pieces;
      if (options_.progress) {
        const std::lock_guard<std::mutex> hold(tally_.lock);
        tally_.length_done += hi.t - lo.t;
        options_.progress(tally_.length_done / (options_.t_end - options_.t_begin), pieces);
      }
      return;
    }
    const int u = units_[k];
    track_.compute_affine(first, u);
    ++result_.units_evaluated;
    std::vector<Cut> bounds;
    try {
      cut_unit(u, lo, hi, bounds);
    } catch (const UncertifiedError&) {
      // The double-double bounds, grown through every layer, cannot decide: recompute every value
      // before u in triple-double (rare, so the walk stays fast) and decide again, from bounds some
      // 1e11 smaller (BENCHMARKS.md, ResNet-18).
      if (!options_.certify) throw;
      boundary_failure_ = false;
      ++result_.refinements;
      if (options_.cancel && options_.cancel->load(std::memory_order_relaxed)) throw Cancelled("walk cancelled");
      if (!track_.refine(u, [this] {
            return should_stop() || (options_.cancel && options_.cancel->load(std::memory_order_relaxed));
          }))
        throw Stopped{};
      if (options_.cancel && options_.cancel->load(std::memory_order_relaxed)) throw Cancelled("walk cancelled");
      try {
        cut_unit(u, lo, hi, bounds);
      } catch (const UncertifiedError& again) {
        throw UncertifiedError(std::string(again.what()) +
                               " (also with every value before the unit recomputed in triple-double)");
      }
    }
    // The sub-segments are walked in order; the values of the nodes before u stay as they are.
    for (std::size_t s = 0; s + 1 < bounds.size(); ++s) {
      // After the last unit nothing reads its output: each sub-segment is a piece.
      if (k + 1 < units_.size() || collector_) apply_states(u, 0.5 * (bounds[s].t + bounds[s + 1].t));
      walk(k + 1, bounds[s], bounds[s + 1]);
    }
  }

  // The sub-segments of [lo, hi] that unit u cuts it into: bounds = lo, the cuts, hi.
  void cut_unit(int u, const Cut& lo, const Cut& hi, std::vector<Cut>& bounds) {
    std::vector<Cut> cuts;
    if (g_.nodes[u].kind == OpKind::kMax)
      max_cuts(u, lo, hi, cuts);
    else
      unit_cuts(u, lo, hi, cuts);
    std::sort(cuts.begin(), cuts.end(), [](const Cut& p, const Cut& q) { return p.t < q.t; });
    // One cut per point: identical positions of one function (proven by the terms) merge; any other
    // two cuts (or a cut and an end) must be farther apart than their error windows.
    bounds.assign(1, lo);
    for (const Cut& cut : cuts) {
      const Cut& last = bounds.back();
      if (cut.t == last.t && same_cut(last, cut.p, cut.q)) continue;
      check_gap(u, last, cut);
      bounds.push_back(cut);
    }
    check_gap(u, bounds.back(), hi);
    bounds.push_back(hi);
  }

  void check_gap(int u, const Cut& left, const Cut& right) {
    const double gap = right.t - left.t;
    const double allowed = left.window + right.window;
    if (!(gap > allowed)) {
      note_boundary(left);
      note_boundary(right);
      uncertain(u, -1, right.t, "two cuts closer than their error windows");
    }
    if (allowed > 0) result_.least_margin = std::min(result_.least_margin, gap / allowed);
  }

  const Graph& g_;
  const SegmentOptions& options_;
  const std::vector<int>& units_;
  const detail::WalkPrepared& prepared_;
  Tally& tally_;
  GraphTrack track_;
  double segment_end_ = 0;
  const Eigen::VectorXd* origin_ = nullptr;
  const Eigen::VectorXd* direction_ = nullptr;
  const Eigen::VectorXd* direction_lo_ = nullptr;
  std::unique_ptr<detail::ExactEnd> exact_[2];  // at t_begin and t_end (see exact_at)
  SegmentPieces result_;
  detail::RegionCollector* collector_;  // where the pieces go (SegmentOptions::regions), or null
  bool boundary_failure_ = false;
  double failed_boundary_ = 0;
};

}  // namespace

namespace {

SegmentPieces walk_segment(const Graph& graph, const Eigen::VectorXd& origin, const Eigen::VectorXd& direction,
                           const Eigen::VectorXd& direction_lo, const SegmentOptions& options);

}  // namespace

SegmentPieces pieces_on_segment(const Graph& graph, const Eigen::VectorXd& origin, const Eigen::VectorXd& direction,
                                const SegmentOptions& options) {
  return walk_segment(graph, origin, direction, Eigen::VectorXd::Zero(direction.size()), options);
}

SegmentPieces pieces_between(const Graph& graph, const Eigen::VectorXd& a, const Eigen::VectorXd& b,
                             const SegmentOptions& options) {
  if (a.size() != b.size())
    throw InputError("segment: the two points have " + std::to_string(a.size()) + " and " + std::to_string(b.size()) +
                     " coordinates");
  // b - a exactly, as hi + lo (TwoSum): the walk reaches b itself at t = 1, not a rounding of it.
  Eigen::VectorXd hi(a.size()), lo(a.size());
  for (Eigen::Index i = 0; i < a.size(); ++i) detail::two_sum(b[i], -a[i], hi[i], lo[i]);
  if (!hi.allFinite() || !lo.allFinite()) throw InputError("segment: b - a overflows doubles");
  return walk_segment(graph, a, hi, lo, options);
}

namespace {

SegmentPieces walk_segment(const Graph& graph, const Eigen::VectorXd& origin, const Eigen::VectorXd& direction,
                           const Eigen::VectorXd& direction_lo, const SegmentOptions& options) {
  const std::string where = graph.source.empty() ? std::string("graph") : graph.source;
  if (origin.size() != graph.input_dim() || direction.size() != graph.input_dim())
    throw InputError(where + ": the segment has " + std::to_string(origin.size()) + " coordinates, the network " +
                     std::to_string(graph.input_dim()) + " inputs");
  if (!origin.allFinite() || !direction.allFinite())
    throw InputError(where + ": the segment's points are not all finite");
  if (!(options.t_begin < options.t_end) || !std::isfinite(options.t_begin) || !std::isfinite(options.t_end))
    throw InputError("segment: expected t_begin < t_end, got " + std::to_string(options.t_begin) + " and " +
                     std::to_string(options.t_end));
  const detail::WalkPrepared prepared(graph);
  Tally tally;
  if (options.time_limit > 0) {
    tally.has_deadline = true;
    tally.deadline = std::chrono::steady_clock::now() +
                     std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(options.time_limit));
  }
  const int threads = options.threads > 0 ? options.threads : omp_get_max_threads();
  // Chunks of the segment, handed out to the threads as they come free. A chunk boundary inside a
  // piece counts that piece twice, so each boundary is taken off once; the boundaries sit at odd
  // fractions. Two chunks per thread: each chunk walks the full depth before its first piece (a full
  // forward pass of ResNet-18, seconds), so more chunks balance long walks a little better and cost
  // short ones much more. Where a cut or a value falls within its error bound of a boundary (the walk
  // cannot tell whether the boundary is a breakpoint), the two chunks beside it are walked again as
  // one; the others keep their result. Any other failure is the answer (UncertifiedError).
  struct Chunk {
    Chunk(double from, double to) : t_begin(from), t_end(to) {}
    double t_begin, t_end;
    bool walked = false;
    SegmentPieces part;
    std::vector<WalkedRegion> leaves;  // with SegmentOptions::regions (Walker::leaves)
    std::vector<char> leaf_starts_chunk;
  };
  std::unique_ptr<detail::RegionCollector> collector;
  if (options.regions) collector = std::make_unique<detail::RegionCollector>(graph, *options.regions);
  std::vector<Chunk> chunks;
  {
    const int n = threads == 1 ? 1 : 2 * threads;
    const double width = options.t_end - options.t_begin;
    for (int c = 0; c < n; ++c) {
      const double from = c == 0 ? options.t_begin : chunks.back().t_end;
      const double to = c + 1 == n ? options.t_end : options.t_begin + width * (c + 1 - 0.381966011250105) / n;
      chunks.emplace_back(from, to);
    }
  }
  for (;;) {
    std::vector<int> todo;
    for (int c = 0; c < static_cast<int>(chunks.size()); ++c)
      if (!chunks[c].walked) todo.push_back(c);
    std::exception_ptr first_error;
    std::vector<double> failed_boundaries;
#pragma omp parallel num_threads(std::max(1, std::min<int>(threads, static_cast<int>(todo.size()))))
    {
      Walker walker(graph, prepared, options, tally, collector.get());
#pragma omp for schedule(dynamic, 1)
      for (int i = 0; i < static_cast<int>(todo.size()); ++i) {
        if (tally.abort.load()) continue;
        Chunk& chunk = chunks[todo[i]];
        try {
          chunk.part = walker.run(origin, direction, direction_lo, chunk.t_begin, chunk.t_end);
          chunk.leaves = std::move(walker.leaves);
          chunk.leaf_starts_chunk = std::move(walker.leaf_starts_chunk);
          chunk.walked = true;
        } catch (const UncertifiedError& e) {
          if (walker.boundary_failure() && chunks.size() > 1) {
#pragma omp critical(relutope_segment_error)
            failed_boundaries.push_back(walker.failed_boundary());
          } else {
#pragma omp critical(relutope_segment_error)
            if (!first_error) first_error = std::current_exception();
            tally.abort = true;
          }
        } catch (...) {
#pragma omp critical(relutope_segment_error)
          if (!first_error) first_error = std::current_exception();
          tally.abort = true;
        }
      }
    }
    if (first_error) std::rethrow_exception(first_error);
    bool stopped = false;
    for (const Chunk& chunk : chunks) stopped = stopped || (chunk.walked && !chunk.part.complete);
    if (failed_boundaries.empty() || stopped) break;
    // Walk the two chunks beside each failed boundary as one.
    for (double t : failed_boundaries)
      for (std::size_t c = 0; c + 1 < chunks.size(); ++c)
        if (chunks[c].t_end == t) {
          chunks[c] = Chunk(chunks[c].t_begin, chunks[c + 1].t_end);
          chunks.erase(chunks.begin() + static_cast<std::ptrdiff_t>(c) + 1);
          break;
        }
  }
  // The result: the pieces of the prefix walked without a gap, and every part walked.
  SegmentPieces result;
  result.t_reached = options.t_begin;
  bool prefix = true;
  for (std::size_t c = 0; c < chunks.size(); ++c) {
    const Chunk& chunk = chunks[c];
    const SegmentPieces& part = chunk.part;
    result.units_evaluated += part.units_evaluated;
    result.refinements += part.refinements;
    result.least_margin = std::min(result.least_margin, part.least_margin);
    result.complete = result.complete && chunk.walked && part.complete;
    if (!chunk.walked || (part.pieces == 0 && !part.complete)) {
      prefix = false;
      continue;
    }
    // A piece that runs over a boundary between two walked parts is counted once.
    const double reached = part.complete ? chunk.t_end : part.t_reached;
    const bool joins = !result.walked.empty() && result.walked.back().t_end == chunk.t_begin;
    if (joins) {
      result.walked.back().t_end = reached;
      result.walked.back().pieces += part.pieces - 1;
    } else {
      result.walked.push_back({chunk.t_begin, reached, part.pieces});
    }
    if (!prefix) continue;
    result.pieces += part.pieces - (c > 0 ? 1 : 0);
    result.t_reached = reached;
    result.breakpoints.insert(result.breakpoints.end(), part.breakpoints.begin(), part.breakpoints.end());
    prefix = part.complete;
  }
  if (collector) {
    // The pieces of every part walked; a piece cut by a chunk boundary is one piece.
    std::vector<WalkedRegion> pieces;
    for (Chunk& chunk : chunks) {
      if (!chunk.walked) continue;
      for (std::size_t i = 0; i < chunk.leaves.size(); ++i) {
        WalkedRegion& leaf = chunk.leaves[i];
        if (chunk.leaf_starts_chunk[i] && !pieces.empty() && pieces.back().t_end == leaf.t_begin)
          pieces.back().t_end = leaf.t_end;
        else
          pieces.push_back(std::move(leaf));
      }
    }
    for (WalkedRegion& piece : pieces) collector->keep(std::move(piece));
    collector->finish();
  }
  return result;
}

}  // namespace

}  // namespace relutope
