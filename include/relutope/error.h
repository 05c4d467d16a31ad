#pragma once
#include <stdexcept>
#include <string>

namespace relutope {

/// Base of every exception relutope throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The caller's input is wrong: a malformed or unsupported model file, a shape mismatch,
/// a NaN/Inf weight, an empty or unbounded domain, a dimension that does not match.
/// The message names the source (file, node, field), what was expected and what was found.
class InputError : public Error {
 public:
  using Error::Error;
};

/// The input is valid but relutope cannot certify the answer within its numeric limits (for example a
/// split that neither floating point nor exact arithmetic can decide within the allowed precision or
/// time). No number is returned: a count is either right or not given. The CLI exits with 4.
class UncertifiedError : public Error {
 public:
  using Error::Error;
};

/// The caller stopped a running enumeration through EnumerateOptions::cancel; no result is returned.
class Cancelled : public Error {
 public:
  using Error::Error;
};

}  // namespace relutope
