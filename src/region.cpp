#include "relutope/region.h"

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

}  // namespace relutope
