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

// Activation patterns of all regions with positive volume in `shape`, a convex polygon (counter-
// clockwise) or an interval in coordinates u (2 or 1 of them), the network's input being x = input(u):
// one row [w_0 .. w_{k-1}, c] per input, exactly. One
// character '0' + state per pattern entry, layers joined without separators. Written here from the
// definitions: a ReLU-family row splits by the sign of z ('1' where z >= 0) unless its slope is
// exactly 1 (linear: no split, no entry); a Max unit of k >= 2 rows (Layer::unit_rows) splits into
// the pieces {z_s >= z_j for all j}, where rows that are the same affine function on the piece do
// not split it and the lowest of them is the state; a Max unit outputs its state's row.
inline std::set<std::string> patterns_on(const relutope::Network& net, const Polygon& shape,
                                         const std::vector<std::vector<mpq_class>>& input) {
  using Row = std::vector<mpq_class>;
  const int d = static_cast<int>(shape.front().size());
  Piece root{shape, input, ""};
  std::vector<Piece> pieces{root};
  for (const relutope::Layer& layer : net.layers) {
    const int rows = static_cast<int>(layer.weight.rows());
    const bool is_max = layer.activation == relutope::Activation::kMax;
    std::vector<int> unit_rows = layer.unit_rows;
    if (unit_rows.empty()) unit_rows.assign(rows, 1);
    std::vector<Piece> next;
    for (const Piece& piece : pieces) {
      // pre-activation rows of this layer on the piece
      std::vector<Row> pre(rows, Row(d + 1, 0));
      for (int i = 0; i < rows; ++i) {
        for (int k = 0; k < layer.weight.cols(); ++k)
          for (int j = 0; j <= d; ++j) pre[i][j] += mpq_class(layer.weight(i, k)) * piece.map[k][j];
        pre[i][d] += mpq_class(layer.bias[i]);
      }
      if (layer.activation == relutope::Activation::kNone) {
        next.push_back({piece.shape, pre, piece.pattern});
        continue;
      }
      // Split row by row (ReLU family) or unit by unit (Max); `map` collects each sub-piece's outputs.
      std::vector<Piece> split{{piece.shape, {}, piece.pattern}};
      if (!is_max) {
        for (int r = 0; r < rows; ++r) {
          const mpq_class slope(layer.slope_below(r));
          std::vector<Piece> finer;
          for (Piece& s : split) {
            if (slope == 1) {  // linear: one state
              s.map.push_back(pre[r]);
              finer.push_back(std::move(s));
              continue;
            }
            for (int sign : {-1, 1}) {
              Polygon part = clip(s.shape, pre[r], sign);
              if (!has_volume(part)) continue;
              Piece p{part, s.map, s.pattern + (sign > 0 ? '1' : '0')};
              Row out = pre[r];
              if (sign < 0)
                for (auto& v : out) v *= slope;
              p.map.push_back(out);
              finer.push_back(std::move(p));
            }
          }
          split.swap(finer);
        }
      }
      for (std::size_t u = 0, first = 0; is_max && u < unit_rows.size(); first += unit_rows[u++]) {
        const int k = unit_rows[u];
        std::vector<Piece> finer;
        for (Piece& s : split) {
          if (k == 1) {
            s.map.push_back(pre[first]);
            finer.push_back(std::move(s));
            continue;
          }
          for (int state = 0; state < k; ++state) {
            Polygon part = s.shape;
            bool possible = true;
            for (int j = 0; j < k && possible; ++j) {
              if (j == state) continue;
              Row diff(d + 1);
              bool same = true;
              for (int i = 0; i <= d; ++i) {
                diff[i] = pre[first + state][i] - pre[first + j][i];
                same = same && diff[i] == 0;
              }
              if (same) {  // the same function: the lower index is the state
                possible = j > state;
                continue;
              }
              part = clip(part, diff, 1);
              possible = has_volume(part);
            }
            if (!possible) continue;
            Piece p{part, s.map, s.pattern + static_cast<char>('0' + state)};
            p.map.push_back(pre[first + state]);
            finer.push_back(std::move(p));
          }
        }
        split.swap(finer);
      }
      for (Piece& s : split) next.push_back(std::move(s));
    }
    pieces.swap(next);
  }
  std::set<std::string> out;
  for (const Piece& p : pieces) out.insert(p.pattern);
  return out;
}

// The same in the box [lo, hi] of the network's own inputs (1-D or 2-D).
inline std::set<std::string> patterns(const relutope::Network& net, const std::vector<double>& lo,
                                      const std::vector<double>& hi) {
  const int d = static_cast<int>(lo.size());
  Polygon box;
  if (d == 1) box = {{lo[0]}, {hi[0]}};
  else box = {{lo[0], lo[1]}, {hi[0], lo[1]}, {hi[0], hi[1]}, {lo[0], hi[1]}};
  std::vector<std::vector<mpq_class>> identity;
  for (int i = 0; i < d; ++i) {
    identity.emplace_back(d + 1, 0);
    identity.back()[i] = 1;
  }
  return patterns_on(net, box, identity);
}

}  // namespace reference
