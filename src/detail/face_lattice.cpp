#include "detail/face_lattice.h"

#include <Eigen/QR>
#include <algorithm>
#include <iterator>
#include <set>

namespace relutope::detail {

namespace {

Eigen::MatrixXd differences(const double* x, int dim, const std::vector<int>& points) {
  Eigen::MatrixXd d(dim, std::max<std::size_t>(points.size(), 1) - 1);
  const Eigen::Map<const Eigen::VectorXd> p0(x + static_cast<std::size_t>(points[0]) * dim, dim);
  for (std::size_t i = 1; i < points.size(); ++i)
    d.col(i - 1) = Eigen::Map<const Eigen::VectorXd>(x + static_cast<std::size_t>(points[i]) * dim, dim) - p0;
  return d;
}

class Lattice {
 public:
  Lattice(const double* x, int dim, const std::vector<std::vector<int>>& facets) : x_(x), dim_(dim), facets_(facets) {
    for (auto& f : facets_) std::sort(f.begin(), f.end());
  }

  VolumeAndCentroid measure(const std::vector<int>& face, int k) const {
    VolumeAndCentroid out;
    if (k == 0) {
      out.volume = 1;
      out.centroid = point(face[0]);
      return out;
    }
    if (k == 1) {  // a segment: its two farthest points
      int a = face[0], b = face[0];
      double longest = -1;
      for (int u : face)
        for (int v : face)
          if (const double len = (point(u) - point(v)).norm(); len > longest) longest = len, a = u, b = v;
      out.volume = longest;
      out.centroid = (point(a) + point(b)) / 2;
      return out;
    }
    Eigen::VectorXd apex = Eigen::VectorXd::Zero(dim_);
    for (int v : face) apex += point(v);
    apex /= static_cast<double>(face.size());
    std::set<std::vector<int>> subfaces;
    for (const std::vector<int>& facet : facets_) {
      std::vector<int> sub;
      std::set_intersection(face.begin(), face.end(), facet.begin(), facet.end(), std::back_inserter(sub));
      if (static_cast<int>(sub.size()) < k || sub.size() == face.size()) continue;
      if (affine_rank(x_, dim_, sub) == k - 1) subfaces.insert(std::move(sub));
    }
    out.centroid = Eigen::VectorXd::Zero(dim_);
    for (const std::vector<int>& sub : subfaces) {
      const VolumeAndCentroid g = measure(sub, k - 1);
      const double cone = distance_to_hull(apex, sub) * g.volume / k;
      out.volume += cone;
      out.centroid += cone * (apex + (static_cast<double>(k) / (k + 1)) * (g.centroid - apex));
    }
    if (out.volume > 0) out.centroid /= out.volume;
    else out.centroid = apex;
    return out;
  }

 private:
  Eigen::Map<const Eigen::VectorXd> point(int v) const { return {x_ + static_cast<std::size_t>(v) * dim_, dim_}; }

  double distance_to_hull(const Eigen::VectorXd& p, const std::vector<int>& points) const {
    Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(differences(x_, dim_, points));
    qr.setThreshold(1e-9);
    const Eigen::MatrixXd q = Eigen::MatrixXd(qr.householderQ()).leftCols(qr.rank());
    const Eigen::VectorXd r = p - point(points[0]);
    return (r - q * (q.transpose() * r)).norm();
  }

  const double* x_;
  int dim_;
  std::vector<std::vector<int>> facets_;
};

}  // namespace

int affine_rank(const double* x, int dim, const std::vector<int>& points) {
  if (points.size() < 2) return 0;
  Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(differences(x, dim, points));
  qr.setThreshold(1e-9);
  return static_cast<int>(qr.rank());
}

VolumeAndCentroid volume_and_centroid(const double* x, int num_vertices, int dim,
                                      const std::vector<std::vector<int>>& facets) {
  std::vector<int> all(num_vertices);
  for (int v = 0; v < num_vertices; ++v) all[v] = v;
  return Lattice(x, dim, facets).measure(all, dim);
}

}  // namespace relutope::detail
