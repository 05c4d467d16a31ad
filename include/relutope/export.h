#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "relutope/domain.h"
#include "relutope/graph.h"
#include "relutope/network.h"
#include "relutope/region.h"
#include "relutope/walked_regions.h"

namespace relutope {

/// The fields a JSONL region record can carry, in the order they are written:
/// id, pattern, interior_point, volume, centroid, chebyshev_center, inradius, vertices, halfspaces
/// (each with a, b, origin, the indices of its vertices and the neighbouring region across it), map, depth.
const std::vector<std::string>& jsonl_fields();

/// Writes one JSON object per region and line, streaming: nothing is kept between regions.
/// Fields that need the V-representation (volume, centroid, chebyshev_center, inradius, vertices, and
/// the halfspaces' vertex lists) are written when the region has vertices (vertex engine).
class JsonlWriter {
 public:
  /// @param[in] out     the stream to write to; must outlive the writer
  /// @param[in] net     the network the regions are of (not copied: must outlive the writer)
  /// @param[in] domain  their domain (not copied: must outlive the writer)
  /// @param[in] fields  subset of jsonl_fields() to write; empty = all
  /// @throws InputError for an unknown name: "unknown field \"colour\" (known: id, ...)"
  JsonlWriter(std::ostream& out, const Network& net, const Domain& domain, const std::set<std::string>& fields = {});
  /// Writes the line of `region` with the next id (0, 1, ...).
  /// @param[in] region  a region of net in domain (with vertices for the V-representation fields)
  void write(const Region& region);
  /// The line for `region` without its id: thread-safe, for enumerate_formatted's formatter.
  /// @param[in] region  as for write()
  /// @return the whole line, "{...}\n", with every chosen field but id (write_formatted inserts it)
  std::string format(const Region& region) const;
  /// Writes a line from format(), with the next id.
  /// @param[in] line  a result of format()
  void write_formatted(const std::string& line);
  /// Lines written so far.
  std::uint64_t num_written() const { return num_written_; }
  /// Continues a file that already holds `lines` lines (a resumed run): the next id is `lines`.
  void continue_after(std::uint64_t lines) { num_written_ = lines; }
  /// True if `field` is written.
  bool has(const std::string& field) const { return fields_.empty() || fields_.count(field); }

 private:
  std::ostream& out_;
  const Network& net_;
  const Domain& domain_;
  std::set<std::string> fields_;
  std::uint64_t num_written_ = 0;
};

/// The activation pattern of the region across facet `f` of `region` (a neuron's facet): the forward
/// pass just beyond the facet's vertex centroid.
/// @param[in] net, domain  the network and domain the region is of
/// @param[in] region       a region with vertices (EnumerateOptions::with_vertices)
/// @param[in] f            index into region.halfspaces
/// @return pattern_string of the neighbour; empty for a facet of the domain (no region beyond it)
std::optional<std::string> neighbor_pattern(const Network& net, const Domain& domain, const Region& region,
                                            std::size_t f);

/// The fields of a JSONL record of a walked region (write_walked_jsonl), in the order they are written:
/// id, pattern, pattern_changes, interior_point, volume, centroid, vertices, map.
const std::vector<std::string>& walked_jsonl_fields();

/// Up to this many pattern entries (GraphPattern::num_entries), every walked record carries its full
/// `pattern`; beyond (ResNet-18 has millions), only the first record does, and the others are read
/// from it and their `pattern_changes`.
constexpr std::int64_t kFullPatternEntries = 10000;

/// A walked region in the coordinates of the slice it is written in, u = offset + linear w, where w
/// is the walk's (s, t) on a plane or t on a segment: its vertices (a polygon counter-clockwise; a
/// piece's two ends [t_begin], [t_end]), interior_point (their mean, as the vertex engine's), volume
/// (area or length in u) and map (output = map_weight u + map_bias). No half-spaces, no pattern.
/// @param[in] region  from WalkedRegions::regions
/// @param[in] offset  k values; @param[in] linear  k x k, invertible (k = 2 on a plane, 1 on a segment)
Region walked_region_geometry(const WalkedRegion& region, const Eigen::VectorXd& offset, const Eigen::MatrixXd& linear);

/// Writes the regions of a walk as JSON lines, one per region, id 0, 1, ... in the order of
/// walked.regions (pattern order), with the fields of the dense engines' records where they apply
/// (JsonlWriter), and `pattern_changes`: [[layer, unit, state], ...], the pattern entries where the
/// region differs from the first record (layer: the '|'-separated group, i.e. the unit node's place
/// among the unit nodes with entries; unit: the node's output element; state: the entry's digit).
/// `pattern` is the full pattern text on every record up to kFullPatternEntries entries, else on the
/// first only.
/// @param[in] geometry  walked_region_geometry of each region, in the same order
/// @param[in] fields    subset of walked_jsonl_fields(); empty = all
/// @throws InputError for an unknown field, naming the fields the walk writes
void write_walked_jsonl(std::ostream& out, const Graph& graph, const WalkedRegions& walked,
                        const std::vector<Region>& geometry, const std::set<std::string>& fields = {});

/// Each region of a 3-D partition as a closed polyhedral cell: its facets as polygons ordered
/// counter-clockwise seen from outside. Cells share no vertices, so each is one connected component.
struct CellMesh {
  std::vector<Eigen::Vector3d> vertices;  ///< every cell's own copies
  std::vector<std::vector<int>> faces;    ///< indices into vertices, counter-clockwise from outside
  std::vector<std::uint64_t> face_cell;  ///< the region (0, 1, ...) each face belongs to
  /// Adds `region` (which must have vertices and 3 input dimensions) as cell number `cell`.
  /// @throws InputError if the region has no vertices or is not 3-D
  void add(const Region& region, std::uint64_t cell);
};

/// OFF with a colour per face (by cell), ASCII PLY with an int "cell" face property, OBJ with one
/// group per cell ("g cell_N"). MeshLab, ParaView and Blender read all three.
/// @param[out] out   the stream to write to
/// @param[in]  mesh  the cells (CellMesh::add for each region)
void write_off(std::ostream& out, const CellMesh& mesh);
void write_ply(std::ostream& out, const CellMesh& mesh);
void write_obj(std::ostream& out, const CellMesh& mesh);

}  // namespace relutope
