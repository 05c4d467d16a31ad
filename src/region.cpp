#include "relutope/region.h"

#include "relutope/network.h"

namespace relutope {

std::string pattern_string(const ActivationPattern& pattern, const std::vector<int>& hidden_widths) {
  std::string text;
  text.reserve(pattern.size() + hidden_widths.size());
  std::size_t k = 0;
  for (std::size_t l = 0; l < hidden_widths.size(); ++l) {
    if (l) text += '|';
    for (int i = 0; i < hidden_widths[l] && k < pattern.size(); ++i) text += pattern[k++] ? '1' : '0';
  }
  return text;
}

std::string pattern_string(const ActivationPattern& pattern, const Network& net) {
  std::string text;
  text.reserve(pattern.size() + net.layers.size());
  std::size_t k = 0;
  bool first_layer = true;
  auto next = [&]() -> int { return k < pattern.size() ? pattern[k++] : 0; };
  for (const Layer& layer : net.layers) {
    if (!layer.splits()) continue;
    if (!first_layer) text += '|';
    first_layer = false;
    if (layer.activation == Activation::kMax) {
      bool first_unit = true;
      for (int u = 0; u < layer.num_units(); ++u) {
        if (layer.rows_of_unit(u) < 2) continue;
        if (!first_unit) text += '.';
        first_unit = false;
        text += std::to_string(next());
      }
      continue;
    }
    // ReLU family: one digit per unit, its number of active rows (a plain row: 0 or 1).
    for (int u = 0, row = 0; u < layer.num_units(); row += layer.rows_of_unit(u++)) {
      int active = 0, entries = 0;
      for (int r = row; r < row + layer.rows_of_unit(u); ++r)
        if (!layer.is_linear_row(r)) active += next() != 0, ++entries;
      if (entries) text += static_cast<char>('0' + active);
    }
  }
  return text;
}

}  // namespace relutope
