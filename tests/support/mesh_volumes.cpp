#include "support/mesh_volumes.h"

#include <CGAL/Exact_predicates_inexact_constructions_kernel.h>
#include <CGAL/Polygon_mesh_processing/connected_components.h>
#include <CGAL/Polygon_mesh_processing/measure.h>
#include <CGAL/Surface_mesh.h>
#include <CGAL/IO/PLY.h>
#include <CGAL/Polygon_mesh_processing/polygon_soup_to_polygon_mesh.h>
#include <CGAL/Polygon_mesh_processing/triangulate_faces.h>
#include <CGAL/Surface_mesh/IO/OFF.h>

#include <fstream>
#include <stdexcept>

namespace mesh_volumes {

std::vector<double> component_volumes(const std::string& path) {
  using Kernel = CGAL::Exact_predicates_inexact_constructions_kernel;
  using Mesh = CGAL::Surface_mesh<Kernel::Point_3>;
  Mesh mesh;
  // The plain readers, which build the mesh as written: read_polygon_mesh would repair and reorient it.
  std::ifstream in(path);
  const bool ply = path.size() > 4 && path.substr(path.size() - 4) == ".ply";
  bool ok = false;
  if (ply) {
    std::vector<Kernel::Point_3> points;
    std::vector<std::vector<std::size_t>> faces;
    ok = CGAL::IO::read_PLY(in, points, faces);
    if (ok) CGAL::Polygon_mesh_processing::polygon_soup_to_polygon_mesh(points, faces, mesh);
  } else {
    ok = CGAL::IO::read_OFF(in, mesh);
  }
  if (!ok) throw std::runtime_error("CGAL could not read " + path);
  std::vector<Mesh> parts;
  CGAL::Polygon_mesh_processing::split_connected_components(mesh, parts);
  std::vector<double> volumes;
  for (Mesh& part : parts) {
    CGAL::Polygon_mesh_processing::triangulate_faces(part);  // volume() wants triangles
    if (!CGAL::is_closed(part)) throw std::runtime_error(path + ": a cell is not closed");
    volumes.push_back(CGAL::to_double(CGAL::Polygon_mesh_processing::volume(part)));
  }
  return volumes;
}

}  // namespace mesh_volumes
