#pragma once
#include <Eigen/Core>
#include <string>
#include <utility>
#include <vector>

#include "relutope/domain.h"
#include "relutope/network.h"
#include "relutope/region.h"

namespace relutope {

/// How a 2-D picture fills the regions.
enum class ColorBy {
  kRegion,  ///< a distinct colour per region
  kOutput,  ///< the network's (single) output at the region's centroid, blue < 0 < red
  kClass,   ///< the predicted class at the centroid (sign of a single output, else argmax)
};

/// "region", "output" or "class". @throws InputError otherwise
ColorBy parse_color_by(const std::string& name);

struct DrawOptions {
  int width = 800;                     ///< pixels of the plot's longer side
  ColorBy color_by = ColorBy::kRegion;
  bool region_boundaries = true;
  bool decision_boundary = true;       ///< zero level set of one output, or where the argmax changes
  std::string title;                   ///< first legend line (e.g. the model's name)
  /// Points to mark (in the plot's coordinates), e.g. the data points a plane passes through, with a label each.
  std::vector<std::pair<Eigen::Vector2d, std::string>> marks;
};

/// Draws the partition of a 2-input network: every region filled, its boundary, the decision boundary
/// on top, and a legend with the count. Regions need vertices (EnumerateOptions::with_vertices).
/// @throws InputError if the input dimension is not 2 or a region has no vertices
void write_svg(const std::string& path, const Network& net, const Domain& domain, const std::vector<Region>& regions,
               const DrawOptions& options = {});
/// The same picture as a PNG, drawn with Cairo.
void write_png(const std::string& path, const Network& net, const Domain& domain, const std::vector<Region>& regions,
               const DrawOptions& options = {});

}  // namespace relutope
