#pragma once
#include <Eigen/Core>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "relutope/domain.h"
#include "relutope/network.h"
#include "relutope/region.h"

namespace relutope {

/// What drawing needs of a network: its sizes, a name for messages, and its forward pass in the plot's
/// coordinates. A Network converts to it; a graph walked on a plane (export through the plane walk)
/// gives its own, through the plane's slice.
class DrawnNetwork {
 public:
  /// The network itself (not copied: it must outlive this object).
  DrawnNetwork(const Network& net);  // NOLINT(google-explicit-constructor): every Network draws
  /// @param[in] evaluate  the output (output_dim values) at a point of the plot (input_dim values)
  DrawnNetwork(int input_dim, int output_dim, std::string source,
               std::function<Eigen::VectorXd(const Eigen::VectorXd&)> evaluate);
  int input_dim() const { return input_dim_; }
  int output_dim() const { return output_dim_; }
  Eigen::VectorXd evaluate(const Eigen::VectorXd& x) const { return evaluate_(x); }
  std::string source;

 private:
  int input_dim_ = 0, output_dim_ = 0;
  std::function<Eigen::VectorXd(const Eigen::VectorXd&)> evaluate_;
};

/// How a 2-D picture fills the regions.
enum class ColorBy {
  kRegion,  ///< a distinct colour per region
  kOutput,  ///< the network's (single) output at the region's centroid, blue < 0 < red
  kClass,   ///< the predicted class (predicted_class), each region split into its class_pieces()
};

/// What write_svg and write_png draw.
struct DrawOptions {
  int width = 800;                     ///< pixels of the plot's longer side
  ColorBy color_by = ColorBy::kRegion;
  bool region_boundaries = true;
  bool decision_boundary = true;       ///< zero level set of one output, or where the argmax changes
  std::string title;                   ///< first legend line (e.g. the model's name)
  /// With ColorBy::kClass: one legend name per class (num_classes() of them); empty = "class 0", "class 1", ...
  std::vector<std::string> class_names;
  /// Points to mark (in the plot's coordinates), e.g. the data points a plane passes through, with a label each.
  std::vector<std::pair<Eigen::Vector2d, std::string>> marks;
};

/// The class that the output y predicts: for a single output, 1 where y > 0 and 0 where y <= 0;
/// otherwise the index of the largest entry, ties going to the lowest index (as argmax does).
/// @param[in] y  the network's output, m >= 1 entries
/// @return a class in [0, num_classes(m))
int predicted_class(const Eigen::VectorXd& y);

/// Number of classes predicted_class() can return for `num_outputs` outputs.
/// @return 2 for one output, else num_outputs
int num_classes(int num_outputs);

/// A convex part of a 2-D region on which predicted_class() is constant.
struct ClassPiece {
  std::vector<Eigen::Vector2d> polygon;  ///< vertices, counter-clockwise
  /// For each edge polygon[i] -> polygon[i + 1 (mod size)]: the class j whose tie with class_index
  /// (o_j = o_class_index) it lies on, i.e. a piece of the decision boundary; empty if it lies on the
  /// region's boundary.
  std::vector<std::optional<int>> edge_class;
  int class_index = 0;  ///< the class predicted on the piece, in [0, num_classes(m))
};

/// Splits a 2-D region by the class boundaries inside it. The output o = map_weight x + map_bias is affine
/// on the region, so the cell of class c, {x in region : o_c(x) >= o_j(x) for all j} (ties to the lowest
/// index; one output counts as the two scores (0, o)), is the region clipped by k - 1 half-planes.
/// Pieces of zero area are left out; the others tile the region and meet only on their boundaries.
/// @param[in] region  a region with vertices (EnumerateOptions::with_vertices), input dimension 2, and
///                    its affine map (map_weight m x 2, map_bias m)
/// @return at most one piece per class, in class order
/// @throws InputError if the region has no vertices or is not 2-D
std::vector<ClassPiece> class_pieces(const Region& region);

/// The decision boundary of a 2-input network within `domain`, as segments (each possibly twice, once
/// from each side): the edges of the class pieces that lie on a tie inside a region (ClassPiece::edge_class
/// set), and the regions' own edges across which the class changes (where the boundary runs along a
/// neuron's line; the class beyond such an edge is the forward pass 1e-7 of the domain's diameter past its middle).
/// @param[in] net      network with 2 inputs and m outputs
/// @param[in] domain   its 2-D domain
/// @param[in] regions  the regions of net in domain, with vertices (EnumerateOptions::with_vertices)
/// @return segments (a, b) in input coordinates
/// @throws InputError as class_pieces
std::vector<std::pair<Eigen::Vector2d, Eigen::Vector2d>> decision_boundary(const DrawnNetwork& net, const Domain& domain,
                                                                         const std::vector<Region>& regions);

/// Checks what write_svg and write_png check before drawing, so that a caller can fail before enumerating.
/// @param[in] net, domain, options  as write_svg will get them
/// @throws InputError if the input dimension is not 2, or class_names is neither empty nor
///         num_classes(net.output_dim()) non-empty names
void check_drawable(const DrawnNetwork& net, const Domain& domain, const DrawOptions& options);

/// Draws the partition of a 2-input network: every region filled, its boundary, the decision boundary
/// on top, and a legend with the count (and with ColorBy::kClass, a swatch naming each class's colour).
/// With ColorBy::kClass every region is filled piece by piece (class_pieces()), so each point has the colour
/// of the class the network predicts there; the black line is decision_boundary().
/// Regions need vertices (EnumerateOptions::with_vertices).
/// @param[in] path     file to write (replaced)
/// @param[in] net      network with 2 inputs
/// @param[in] domain   its 2-D domain: the plot's extent
/// @param[in] regions  every region of net in domain (enumerate_regions with with_vertices)
/// @param[in] options  size, colouring, title, legend names and marks
/// @throws InputError as check_drawable, if a region has no vertices, or if path cannot be written
void write_svg(const std::string& path, const DrawnNetwork& net, const Domain& domain, const std::vector<Region>& regions,
               const DrawOptions& options = {});
/// The same picture as a PNG, drawn with Cairo; arguments and errors as write_svg.
void write_png(const std::string& path, const DrawnNetwork& net, const Domain& domain, const std::vector<Region>& regions,
               const DrawOptions& options = {});

}  // namespace relutope
