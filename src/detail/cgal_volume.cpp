#include "detail/cgal_volume.h"

#include <CGAL/Exact_predicates_inexact_constructions_kernel.h>
#include <CGAL/Polygon_mesh_processing/measure.h>
#include <CGAL/Polygon_mesh_processing/triangulate_faces.h>
#include <CGAL/Surface_mesh.h>
#include <CGAL/convex_hull_2.h>
#include <CGAL/convex_hull_3.h>
#include <CGAL/Convex_hull_3/dual/halfspace_intersection_3.h>

#include "relutope/error.h"

namespace relutope::detail {

namespace {

using Kernel = CGAL::Exact_predicates_inexact_constructions_kernel;

double area(const std::vector<Halfspace>& halfspaces) {
  // Vertices of a convex polygon given by lines: the pairwise intersections that satisfy every
  // half-plane; CGAL's convex hull orders them, and the hull's area is the polygon's.
  std::vector<Kernel::Point_2> corners;
  const double slack = 1e-12;
  for (std::size_t i = 0; i < halfspaces.size(); ++i)
    for (std::size_t j = i + 1; j < halfspaces.size(); ++j) {
      const Eigen::VectorXd& a = halfspaces[i].a;
      const Eigen::VectorXd& c = halfspaces[j].a;
      const double det = a[0] * c[1] - a[1] * c[0];
      if (std::abs(det) < 1e-300) continue;
      const double x = (halfspaces[i].b * c[1] - a[1] * halfspaces[j].b) / det;
      const double y = (a[0] * halfspaces[j].b - halfspaces[i].b * c[0]) / det;
      bool inside = true;
      for (const Halfspace& h : halfspaces)
        inside &= h.a[0] * x + h.a[1] * y - h.b <= slack * (1 + std::abs(h.b) + h.a.norm());
      if (inside) corners.emplace_back(x, y);
    }
  std::vector<Kernel::Point_2> hull;
  CGAL::convex_hull_2(corners.begin(), corners.end(), std::back_inserter(hull));
  double twice = 0;
  for (std::size_t i = 0; i < hull.size(); ++i) {
    const auto& p = hull[i];
    const auto& q = hull[(i + 1) % hull.size()];
    twice += p.x() * q.y() - q.x() * p.y();
  }
  return twice / 2;
}

double volume(const std::vector<Halfspace>& halfspaces, const Eigen::VectorXd& inside) {
  std::vector<Kernel::Plane_3> planes;  // CGAL keeps the side a·x + d <= 0
  for (const Halfspace& h : halfspaces) planes.emplace_back(h.a[0], h.a[1], h.a[2], -h.b);
  CGAL::Surface_mesh<Kernel::Point_3> mesh;
  CGAL::halfspace_intersection_3(planes.begin(), planes.end(), mesh, Kernel::Point_3(inside[0], inside[1], inside[2]));
  CGAL::Polygon_mesh_processing::triangulate_faces(mesh);
  return CGAL::to_double(CGAL::Polygon_mesh_processing::volume(mesh));
}

}  // namespace

double cgal_volume(const std::vector<Halfspace>& halfspaces, const Eigen::VectorXd& inside) {
  if (inside.size() == 2) return area(halfspaces);
  if (inside.size() == 3) return volume(halfspaces, inside);
  throw Error("cgal_volume: only 2 and 3 dimensions");
}

}  // namespace relutope::detail
