#include "detail/cell_volume.h"

#include <Eigen/QR>
#include <algorithm>
#include <set>

namespace relutope::detail {

namespace {

class VolumeOfFaces {
 public:
  explicit VolumeOfFaces(const Cell& cell) : cell_(cell) {}

  double volume(const std::vector<int>& face, int k) const {
    if (k == 0) return 1.0;
    if (k == 1) {
      double longest = 0;
      for (int u : face)
        for (int v : face) longest = std::max(longest, (point(u) - point(v)).norm());
      return longest;
    }
    Eigen::VectorXd centre = Eigen::VectorXd::Zero(cell_.dim);
    for (int v : face) centre += point(v);
    centre /= static_cast<double>(face.size());
    // Facets of the face: vertex subsets cut out by one constraint, of affine dimension k - 1.
    std::set<std::vector<int>> facets;
    for (std::size_t slot = 0; slot < cell_.slots.size(); ++slot) {
      if (cell_.slots[slot] == kFreeSlot) continue;
      std::vector<int> sub;
      for (int v : face)
        if ((cell_.vertex_mask(v)[slot / 64] >> (slot % 64)) & 1) sub.push_back(v);
      if (static_cast<int>(sub.size()) < k || sub.size() == face.size()) continue;
      if (affine_rank(sub) == k - 1) facets.insert(sub);
    }
    double sum = 0;
    for (const std::vector<int>& facet : facets) sum += distance_to_hull(centre, facet) * volume(facet, k - 1);
    return sum / k;
  }

 private:
  Eigen::Map<const Eigen::VectorXd> point(int v) const { return {cell_.vertex(v), cell_.dim}; }

  Eigen::MatrixXd differences(const std::vector<int>& points) const {
    Eigen::MatrixXd d(cell_.dim, points.size() - 1);
    for (std::size_t i = 1; i < points.size(); ++i) d.col(i - 1) = point(points[i]) - point(points[0]);
    return d;
  }

  int affine_rank(const std::vector<int>& points) const {
    Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(differences(points));
    qr.setThreshold(1e-9);
    return static_cast<int>(qr.rank());
  }

  double distance_to_hull(const Eigen::VectorXd& x, const std::vector<int>& points) const {
    const Eigen::MatrixXd d = differences(points);
    Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(d);
    qr.setThreshold(1e-9);
    const Eigen::MatrixXd q = Eigen::MatrixXd(qr.householderQ()).leftCols(qr.rank());
    const Eigen::VectorXd r = x - point(points[0]);
    return (r - q * (q.transpose() * r)).norm();
  }

  const Cell& cell_;
};

}  // namespace

double cell_volume(const Cell& cell) {
  std::vector<int> all(cell.num_vertices);
  for (int v = 0; v < cell.num_vertices; ++v) all[v] = v;
  return VolumeOfFaces(cell).volume(all, cell.dim);
}

}  // namespace relutope::detail
