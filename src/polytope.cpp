#include "relutope/polytope.h"

#include <glpk.h>

#include <cmath>
#include <memory>
#include <stdexcept>

#include "detail/cgal_volume.h"
#include "detail/glpk_problem.h"
#include "detail/face_lattice.h"
#include "detail/require_complete.h"
#include "relutope/enumerate.h"
#include "relutope/error.h"

namespace relutope {

namespace {

// The largest ball { x : a·x + r |a| <= b for every facet }: one small LP, maximise r.
void chebyshev(const Region& region, PolytopeMeasures& out) {
  const int d = static_cast<int>(region.interior_point.size());
  const detail::GlpkProblem lp = detail::make_glpk_problem();
  glp_set_obj_dir(lp.get(), GLP_MAX);
  glp_add_cols(lp.get(), d + 1);
  for (int i = 1; i <= d; ++i) glp_set_col_bnds(lp.get(), i, GLP_FR, 0, 0);
  glp_set_col_bnds(lp.get(), d + 1, GLP_LO, 0, 0);
  glp_set_obj_coef(lp.get(), d + 1, 1);
  const int rows = static_cast<int>(region.halfspaces.size());
  glp_add_rows(lp.get(), rows);
  std::vector<int> index(d + 2);
  std::vector<double> value(d + 2);
  for (int i = 0; i <= d; ++i) index[i + 1] = i + 1;
  for (int r = 0; r < rows; ++r) {
    const Halfspace& h = region.halfspaces[r];
    for (int i = 0; i < d; ++i) value[i + 1] = h.a[i];
    value[d + 1] = h.a.norm();
    glp_set_mat_row(lp.get(), r + 1, d + 1, index.data(), value.data());
    glp_set_row_bnds(lp.get(), r + 1, GLP_UP, 0, h.b);
  }
  glp_smcp params;
  glp_init_smcp(&params);
  params.msg_lev = GLP_MSG_OFF;
  out.chebyshev_center = region.interior_point;
  out.inradius = 0;
  if (glp_simplex(lp.get(), &params) == 0 && glp_get_status(lp.get()) == GLP_OPT) {
    out.inradius = glp_get_obj_val(lp.get());
    for (int i = 0; i < d; ++i) out.chebyshev_center[i] = glp_get_col_prim(lp.get(), i + 1);
  }
}

}  // namespace

PolytopeMeasures measure_polytope(const Region& region, bool cross_check) {
  if (region.vertices.empty() || region.facet_vertices.size() != region.halfspaces.size())
    throw Error("measure_polytope: the region has no vertices (enumerate with EnumerateOptions::with_vertices)");
  const int d = static_cast<int>(region.vertices.front().size());
  std::vector<double> x;
  x.reserve(region.vertices.size() * d);
  for (const Eigen::VectorXd& v : region.vertices) x.insert(x.end(), v.data(), v.data() + d);
  const detail::VolumeAndCentroid vc =
      detail::volume_and_centroid(x.data(), static_cast<int>(region.vertices.size()), d, region.facet_vertices);
  PolytopeMeasures out;
  out.volume = vc.volume;
  out.centroid = vc.centroid;
  chebyshev(region, out);
  if (cross_check && (d == 2 || d == 3)) out.volume_cgal = detail::cgal_volume(region.halfspaces, out.chebyshev_center);
  return out;
}

double domain_volume(const Domain& domain) {
  if (domain.is_box()) return domain.box_volume();
  Network identity;  // one affine layer and no breakpoint: a single region, the domain itself
  Layer layer;
  layer.weight = Eigen::MatrixXd::Identity(domain.dim(), domain.dim());
  layer.bias = Eigen::VectorXd::Zero(domain.dim());
  layer.activation = Activation::kNone;
  identity.layers = {layer};
  EnumerateOptions options;
  options.engine = Engine::kVertex;
  options.with_volume = true;
  options.num_threads = 1;
  double volume = 0;
  enumerate_regions(identity, domain, options, [&](const Region& r) { volume += r.volume.value(); });
  return volume;
}

PartitionMeasures measure_partition(const Network& net, const Domain& domain, EnumerateOptions options) {
  if (domain.dim() > kMaxVertexGeometryDim)
    throw InputError("measuring every region needs the vertex engine, up to " + std::to_string(kMaxVertexGeometryDim) +
                     " inputs; " + net.source + " has " + std::to_string(domain.dim()));
  if (options.engine != Engine::kAuto && options.engine != Engine::kVertex)
    throw InputError(std::string("engine ") + engine_name(options.engine) +
                     ": measuring every region needs the vertex engine (auto or vertex)");
  options.engine = Engine::kVertex;
  options.with_vertices = true;
  PartitionMeasures out;
  const bool with_cgal = domain.dim() == 2 || domain.dim() == 3;
  double covered = 0, covered_cgal = 0;
  out.stats = enumerate_regions(net, domain, options, [&](const Region& region) {
    const PolytopeMeasures m = measure_polytope(region, with_cgal);
    covered += m.volume;
    covered_cgal += m.volume_cgal.value_or(0);
    out.volumes.push_back(m.volume);
    out.inradii.push_back(m.inradius);
    out.num_facets.push_back(static_cast<int>(region.halfspaces.size()));
    out.num_vertices.push_back(static_cast<int>(region.vertices.size()));
  });
  detail::require_complete(out.stats, "measuring the partition");
  const double total = domain_volume(domain);
  out.coverage = covered / total;
  if (with_cgal) out.coverage_cgal = covered_cgal / total;
  for (const std::optional<double> c : {std::optional<double>(out.coverage), out.coverage_cgal})
    if (c && std::abs(*c - 1) > 1e-6)
      throw std::logic_error("the regions cover " + std::to_string(*c) + " of the domain, not all of it: a bug in relutope");
  return out;
}

}  // namespace relutope
