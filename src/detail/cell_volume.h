#pragma once
// Volume of a vertex engine cell, from its vertices and their tight-constraint masks. Private to src/.
#include "engines/vertex_engine.h"

namespace relutope::detail {

// Cone decomposition (Lasserre's recursion): vol_k(F) = (1/k) sum over the facets G of F of
// dist(c, aff G) * vol_{k-1}(G), with c the centroid of F's vertices; a facet is a set of F's vertices
// sharing a constraint that spans k-1 dimensions. Exact up to rounding; cost grows with the face
// lattice, fine for the small cells of low dimension.
double cell_volume(const Cell& cell);

}  // namespace relutope::detail
