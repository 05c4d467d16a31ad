#pragma once
// An independent reference for counting, in exact rational arithmetic (GMP): the input box is cut
// layer by layer, neuron by neuron, by plain half-plane clipping of convex polygons (2-D) or
// intervals (1-D). Float weights are exact rationals, so this is the true answer for the network
// as stored. It shares no code with the library's engines.
#include <gmpxx.h>

#include <set>
#include <string>
#include <vector>

#include "relutope/network.h"

namespace reference {

using Point = std::vector<mpq_class>;  // 1 or 2 coordinates
using Polygon = std::vector<Point>;    // 2-D: vertices in order; 1-D: the two ends

struct Piece {
  Polygon shape;
  std::vector<std::vector<mpq_class>> map;  // post-activation map rows: [w_0 .. w_{d-1}, c]
  std::string pattern;
};

inline mpq_class eval(const std::vector<mpq_class>& row, const Point& p) {
  mpq_class v = row.back();
  for (std::size_t i = 0; i < p.size(); ++i) v += row[i] * p[i];
  return v;
}

// Keeps the part of `shape` where sign * f >= 0.
inline Polygon clip(const Polygon& shape, const std::vector<mpq_class>& f, int sign) {
  Polygon out;
  const std::size_t n = shape.size();
  const std::size_t edges = shape.front().size() == 1 ? 1 : n;  // an interval has one "edge"
  if (shape.front().size() == 1) {
    const mpq_class a = sign * eval(f, shape[0]), b = sign * eval(f, shape[1]);
    if (a < 0 && b < 0) return {};
    if (a >= 0 && b >= 0) return shape;
    Point cut{shape[0][0] + a / (a - b) * (shape[1][0] - shape[0][0])};
    return a >= 0 ? Polygon{shape[0], cut} : Polygon{cut, shape[1]};
  }
  for (std::size_t i = 0; i < edges; ++i) {
    const Point& p = shape[i];
    const Point& q = shape[(i + 1) % n];
    const mpq_class vp = sign * eval(f, p), vq = sign * eval(f, q);
    if (vp >= 0) out.push_back(p);
    if ((vp > 0 && vq < 0) || (vp < 0 && vq > 0)) {
      const mpq_class t = vp / (vp - vq);
      out.push_back({p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])});
    }
  }
  return out;
}

inline bool has_volume(const Polygon& shape) {
  if (shape.empty()) return false;
  if (shape.front().size() == 1) return shape[1][0] > shape[0][0];
  if (shape.size() < 3) return false;
  mpq_class twice_area = 0;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const Point& p = shape[i];
    const Point& q = shape[(i + 1) % shape.size()];
    twice_area += p[0] * q[1] - q[0] * p[1];
  }
  return twice_area > 0;
}

// Activation patterns ('0'/'1' per neuron, layers joined without separators) of all regions with
// positive volume in the box [lo, hi] (1-D or 2-D).
inline std::set<std::string> patterns(const relutope::Network& net, const std::vector<double>& lo,
                                      const std::vector<double>& hi) {
  const int d = static_cast<int>(lo.size());
  Piece root;
  if (d == 1) root.shape = {{lo[0]}, {hi[0]}};
  else root.shape = {{lo[0], lo[1]}, {hi[0], lo[1]}, {hi[0], hi[1]}, {lo[0], hi[1]}};
  for (int i = 0; i < d; ++i) {  // identity map
    std::vector<mpq_class> row(d + 1, 0);
    row[i] = 1;
    root.map.push_back(row);
  }
  std::vector<Piece> pieces{root};
  for (const relutope::Layer& layer : net.layers) {
    // pre-activation rows of this layer for every piece
    std::vector<Piece> next;
    for (const Piece& piece : pieces) {
      std::vector<std::vector<mpq_class>> pre(layer.num_out(), std::vector<mpq_class>(d + 1, 0));
      for (int i = 0; i < layer.num_out(); ++i) {
        for (int k = 0; k < layer.num_in(); ++k)
          for (int j = 0; j <= d; ++j) pre[i][j] += mpq_class(layer.weight(i, k)) * piece.map[k][j];
        pre[i][d] += mpq_class(layer.bias[i]);
      }
      if (!layer.splits()) {
        next.push_back({piece.shape, pre, piece.pattern});
        continue;
      }
      std::vector<Piece> split{{piece.shape, {}, piece.pattern}};
      for (int i = 0; i < layer.num_out(); ++i) {
        std::vector<Piece> finer;
        for (const Piece& s : split)
          for (int sign : {-1, 1}) {
            Polygon part = clip(s.shape, pre[i], sign);
            if (has_volume(part)) finer.push_back({part, {}, s.pattern + (sign > 0 ? '1' : '0')});
          }
        split.swap(finer);
      }
      for (Piece& s : split) {
        s.map = pre;
        const std::size_t first = s.pattern.size() - layer.num_out();
        for (int i = 0; i < layer.num_out(); ++i)
          if (s.pattern[first + i] == '0')
            for (auto& v : s.map[i]) v *= mpq_class(layer.slope_below(i));
        next.push_back(std::move(s));
      }
    }
    pieces.swap(next);
  }
  std::set<std::string> out;
  for (const Piece& p : pieces) out.insert(p.pattern);
  return out;
}

}  // namespace reference
