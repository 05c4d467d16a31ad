#pragma once
// A plain LP subdivision, written independently of the library's LP engine: for every neuron in
// order and every side, keep the side if some point of the box satisfies all chosen sides with a
// margin (one GLPK LP per candidate, from scratch, no witnesses, no interval shortcuts).
#include <glpk.h>

#include <set>
#include <string>
#include <vector>

#include "relutope/domain.h"
#include "relutope/network.h"

namespace lp_reference {

struct Constraint {  // a·x + c >= 0 (the chosen side), in input coordinates
  Eigen::VectorXd a;
  double c;
};

inline double margin(const std::vector<Constraint>& rows, const relutope::Domain& box) {
  const int n = box.dim();
  glp_prob* lp = glp_create_prob();
  glp_set_obj_dir(lp, GLP_MAX);
  glp_add_cols(lp, n + 1);
  for (int i = 0; i < n; ++i) glp_set_col_bnds(lp, i + 1, GLP_DB, box.lo[i], box.hi[i]);
  glp_set_col_bnds(lp, n + 1, GLP_UP, 0, 1);
  glp_set_obj_coef(lp, n + 1, 1);
  if (!rows.empty()) glp_add_rows(lp, static_cast<int>(rows.size()));
  std::vector<int> index(n + 2);
  std::vector<double> value(n + 2);
  for (int i = 0; i <= n; ++i) index[i + 1] = i + 1;
  for (std::size_t r = 0; r < rows.size(); ++r) {  // -a·x + |a| t <= c
    const double norm = rows[r].a.norm();
    for (int i = 0; i < n; ++i) value[i + 1] = -rows[r].a[i] / norm;
    value[n + 1] = 1;
    glp_set_mat_row(lp, static_cast<int>(r) + 1, n + 1, index.data(), value.data());
    glp_set_row_bnds(lp, static_cast<int>(r) + 1, GLP_UP, 0, rows[r].c / norm);
  }
  glp_smcp params;
  glp_init_smcp(&params);
  params.msg_lev = GLP_MSG_OFF;
  glp_simplex(lp, &params);
  const double t = glp_get_status(lp) == GLP_OPT ? glp_get_obj_val(lp) : -1;
  glp_delete_prob(lp);
  return t;
}

// Patterns ('0'/'1' per neuron, no separators) of the regions with positive volume in the box.
inline std::set<std::string> patterns(const relutope::Network& net, const relutope::Domain& box, double tol = 1e-8) {
  struct Node {
    std::string pattern;
    std::vector<Constraint> rows;
    Eigen::MatrixXd post;  // post-activation map of the last layer: rows [w | c]
  };
  const int n = box.dim();
  Node root;
  root.post = Eigen::MatrixXd::Zero(n, n + 1);
  root.post.leftCols(n).setIdentity();
  std::vector<Node> nodes{root};
  for (const relutope::Layer& layer : net.layers) {
    std::vector<Node> next;
    for (const Node& node : nodes) {
      Eigen::MatrixXd pre = layer.weight * node.post;
      pre.col(n) += layer.bias;
      if (!layer.splits()) {
        next.push_back({node.pattern, node.rows, pre});
        continue;
      }
      std::vector<Node> split{{node.pattern, node.rows, pre}};
      for (int i = 0; i < layer.num_out(); ++i) {
        std::vector<Node> finer;
        for (const Node& s : split)
          for (int side : {0, 1}) {
            Node child = s;
            const double sign = side ? 1 : -1;
            child.rows.push_back({sign * pre.row(i).head(n).transpose(), sign * pre(i, n)});
            if (margin(child.rows, box) > tol) {
              child.pattern += side ? '1' : '0';
              finer.push_back(std::move(child));
            }
          }
        split.swap(finer);
      }
      for (Node& s : split) {
        const std::size_t first = s.pattern.size() - layer.num_out();
        for (int i = 0; i < layer.num_out(); ++i)
          if (s.pattern[first + i] == '0') s.post.row(i) *= layer.slope_below(i);
        next.push_back(std::move(s));
      }
    }
    nodes.swap(next);
  }
  std::set<std::string> out;
  for (const Node& node : nodes) out.insert(node.pattern);
  return out;
}

}  // namespace lp_reference
