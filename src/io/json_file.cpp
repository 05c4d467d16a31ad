#include "io/json_file.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "relutope/error.h"

namespace relutope::detail {

namespace {

using json = nlohmann::json;

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

bool is_word_of(const std::string& word, const std::string& key) {
  std::stringstream words(key);
  std::string part;
  while (std::getline(words, part, '_'))
    if (part == word) return true;
  return false;
}

std::size_t line_of(const std::string& text, std::size_t byte) {
  byte = std::min(byte, text.size());
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(byte), '\n'));
}

// Where the parser is, for the message about a duplicate key: "layers[2]".
struct Frame {
  bool object = false;
  std::string key;
  std::size_t index = 0;
  std::set<std::string> keys;
};

std::string path_of(const std::vector<Frame>& frames) {
  std::string path;
  for (std::size_t i = 0; i + 1 < frames.size(); ++i) {
    if (frames[i].object) path += (path.empty() ? "" : ".") + frames[i].key;
    else path += "[" + std::to_string(frames[i].index) + "]";
  }
  return path.empty() ? "top level" : path;
}

}  // namespace

json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open file (does it exist and is it readable?)");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  std::vector<Frame> frames;
  const json::parser_callback_t track = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        frames.emplace_back();
        frames.back().object = event == json::parse_event_t::object_start;
        break;
      case json::parse_event_t::key: {
        const std::string key = parsed.get<std::string>();
        if (!frames.back().keys.insert(key).second)
          throw InputError(path + ": " + path_of(frames) + ": key \"" + key +
                           "\" appears twice in the same object (which one is meant?)");
        frames.back().key = key;
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames.pop_back();
        if (!frames.empty() && !frames.back().object) ++frames.back().index;
        break;
      case json::parse_event_t::value:
        if (!frames.empty() && !frames.back().object) ++frames.back().index;
        break;
    }
    return true;
  };
  try {
    return json::parse(text, track);
  } catch (const json::parse_error& e) {
    const bool truncated = std::string(e.what()).find("unexpected end of input") != std::string::npos;
    const std::size_t at = std::min(e.byte ? e.byte - 1 : 0, text.size());
    const std::string near = text.substr(at >= 8 ? at - 8 : 0, 16);
    const bool non_finite = near.find("NaN") != std::string::npos || near.find("nan") != std::string::npos ||
                            near.find("Inf") != std::string::npos || near.find("inf") != std::string::npos;
    throw InputError(path + ":" + std::to_string(line_of(text, at)) + ": not valid JSON" + (truncated ? " (truncated file?)" : "") +
                     (non_finite ? " (JSON has no NaN or Infinity, and every number must be finite)" : "") + ": " + e.what());
  } catch (const json::exception& e) {
    // 406: a number literal out of the range of double, e.g. 1e999; locate it by its text.
    const std::string what = e.what();
    const std::size_t open = what.find('\''), close = what.rfind('\'');
    std::string where = path;
    if (e.id == 406 && open != std::string::npos && close > open) {
      const std::size_t at = text.find(what.substr(open + 1, close - open - 1));
      if (at != std::string::npos) where += ":" + std::to_string(line_of(text, at));
    }
    throw InputError(where + ": " + (e.id == 406 ? "number out of range: " : "not valid JSON: ") + what +
                     (e.id == 406 ? " (a number too large for a double: every number must be finite)" : ""));
  }
}

std::string closest_key(const std::string& key, const std::vector<std::string>& allowed) {
  const std::string wanted = lower(key);
  std::string best;
  std::size_t best_distance = wanted.size() <= 2 ? 1 : wanted.size() <= 5 ? 2 : 3;  // must beat this
  for (const std::string& name : allowed) {
    const std::string candidate = lower(name);
    std::size_t distance = edit_distance(wanted, candidate);
    if (wanted.size() <= 2 && distance > 0) continue;  // "A" is one edit from "b": only case differs
    if (distance > 0 && is_word_of(wanted, candidate)) distance = 1;
    if (distance < best_distance) {
      best = name;
      best_distance = distance;
    }
  }
  return best;
}

std::string one_of(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) out += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return out;
}

std::string unknown_key_message(const std::string& key, const std::vector<std::string>& allowed) {
  std::string message = "unknown key \"" + key + "\"";
  const std::string guess = closest_key(key, allowed);
  if (!guess.empty()) message += " (did you mean \"" + guess + "\"?)";
  message += "; allowed keys: ";
  for (std::size_t i = 0; i < allowed.size(); ++i) message += (i ? ", " : "") + allowed[i];
  return message;
}

std::vector<std::string> unknown_keys(const json& object, const std::vector<std::string>& allowed) {
  std::vector<std::string> out;
  if (!object.is_object()) return out;
  for (const auto& item : object.items())
    if (std::find(allowed.begin(), allowed.end(), item.key()) == allowed.end()) out.push_back(item.key());
  return out;
}

}  // namespace relutope::detail
