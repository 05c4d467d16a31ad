#pragma once
// The volumes of the closed components of an OFF or PLY file, read with CGAL's own readers and
// measured with CGAL::Polygon_mesh_processing::volume: an independent check of relutope's meshes.
// Kept in its own translation unit (mesh_volumes.cpp) so that the CGAL headers compile once.
#include <string>
#include <vector>

namespace mesh_volumes {

std::vector<double> component_volumes(const std::string& path);

}  // namespace mesh_volumes
