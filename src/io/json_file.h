#pragma once
// Shared by the JSON readers (the model format in json_loader.cpp, the polytope domain in slice.cpp):
// parsing a file with located messages, and strict keys with a suggestion for a misspelt one.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace relutope::detail {

/// Parses the JSON file at `path`. Syntax errors give the line ("model.json:15: not valid JSON
/// (truncated file?): ..."), numbers out of the range of double give the line of the literal, and a key
/// that appears twice in one object is an error (nlohmann would silently keep the last one).
/// @throws InputError naming `path`
nlohmann::json read_json_file(const std::string& path);

/// The allowed key that `key` most likely meant: the same up to case, a close spelling (at most one
/// edit for short keys, two for longer ones, a swap of two letters counting as one), or a key of
/// which `key` is one "_"-separated word ("slope" -> "negative_slope"). Empty if none is close.
std::string closest_key(const std::string& key, const std::vector<std::string>& allowed);

/// `unknown key "activaton" (did you mean "activation"?); allowed keys: weight, bias, activation`
std::string unknown_key_message(const std::string& key, const std::vector<std::string>& allowed);

/// The keys of `object` that are not in `allowed` (sorted, as nlohmann::json keeps them).
std::vector<std::string> unknown_keys(const nlohmann::json& object, const std::vector<std::string>& allowed);

/// "a", "a or b", "a, b or c".
std::string one_of(const std::vector<std::string>& names);

}  // namespace relutope::detail
