#include "io/points.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "relutope/error.h"

namespace relutope::detail {

namespace {

std::string trim(const std::string& text) {
  const std::size_t first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

std::string where(const std::string& path, std::size_t line, std::size_t field) {
  return path + ":" + std::to_string(line) + ": field " + std::to_string(field);
}

// ------------------------------------------------------------------------------------------- .npy

// The header is a Python dict literal, e.g. {'descr': '<f8', 'fortran_order': False, 'shape': (20, 64), }
// (numpy.lib.format). A small parser of exactly that: strings, True/False and tuples of integers.
class NpyHeader {
 public:
  NpyHeader(std::string text, std::string path) : text_(std::move(text)), path_(std::move(path)) {}

  void parse() {
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = string_literal();
      expect(':');
      skip_space();
      if (key == "descr") {
        if (peek() != '\'' && peek() != '"') fail("descr: a structured dtype is not supported");
        descr = string_literal();
        has_descr = true;
      } else if (key == "fortran_order") {
        fortran_order = boolean();
        has_order = true;
      } else if (key == "shape") {
        shape = tuple();
        has_shape = true;
      } else {
        fail("unexpected key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') ++at_;
    }
    if (!has_descr || !has_order || !has_shape) fail("the header needs 'descr', 'fortran_order' and 'shape'");
  }

  std::string descr;
  bool fortran_order = false;
  std::vector<std::uint64_t> shape;

 private:
  [[noreturn]] void fail(const std::string& what) const {
    const std::string shown = text_.substr(0, std::min(text_.find_last_not_of(" \n") + 1, std::size_t{200}));
    throw InputError(path_ + ": not a valid .npy header (" + what + "): " + shown);
  }
  char peek() const { return at_ < text_.size() ? text_[at_] : '\0'; }
  void skip_space() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail(std::string("expected '") + c + "' at byte " + std::to_string(at_));
    ++at_;
  }
  std::string string_literal() {
    skip_space();
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a quoted key at byte " + std::to_string(at_));
    const std::size_t end = text_.find(quote, at_ + 1);
    if (end == std::string::npos) fail("unterminated string");
    std::string value = text_.substr(at_ + 1, end - at_ - 1);
    at_ = end + 1;
    return value;
  }
  bool boolean() {
    if (text_.compare(at_, 4, "True") == 0) {
      at_ += 4;
      return true;
    }
    if (text_.compare(at_, 5, "False") == 0) {
      at_ += 5;
      return false;
    }
    fail("fortran_order: expected True or False");
  }
  std::vector<std::uint64_t> tuple() {
    expect('(');
    std::vector<std::uint64_t> dims;
    while (true) {
      skip_space();
      if (peek() == ')') break;
      const std::size_t start = at_;
      std::uint64_t value = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        if (__builtin_mul_overflow(value, 10u, &value) || __builtin_add_overflow(value, static_cast<unsigned>(peek() - '0'), &value))
          fail("shape: a dimension overflows 64 bits");
        ++at_;
      }
      if (at_ == start) fail("shape: expected a non-negative integer at byte " + std::to_string(at_));
      dims.push_back(value);
      skip_space();
      if (peek() == ',') ++at_;
      else if (peek() != ')') fail("shape: expected ',' or ')' at byte " + std::to_string(at_));
    }
    ++at_;
    return dims;
  }

  std::string text_;
  std::string path_;
  std::size_t at_ = 0;
  bool has_descr = false, has_order = false, has_shape = false;
};

struct NpyType {
  char kind;  // 'f' float, 'i' signed, 'u' unsigned
  int bytes;
  bool big_endian;
};

bool parse_descr(const std::string& descr, NpyType& type) {
  if (descr.size() < 3) return false;
  const char order = descr[0], kind = descr[1];
  const std::string size = descr.substr(2);
  if (size != "1" && size != "2" && size != "4" && size != "8") return false;
  type.bytes = size[0] - '0';
  type.kind = kind;
  type.big_endian = order == '>';
  if (order != '<' && order != '>' && !(order == '|' && type.bytes == 1)) return false;
  if (kind == 'f') return type.bytes == 4 || type.bytes == 8;
  return kind == 'i' || kind == 'u';
}

double decode(const unsigned char* p, const NpyType& type) {
  std::uint64_t bits = 0;
  for (int i = 0; i < type.bytes; ++i) bits |= static_cast<std::uint64_t>(p[type.big_endian ? type.bytes - 1 - i : i]) << (8 * i);
  if (type.kind == 'f') {
    if (type.bytes == 4) {
      const auto narrow = static_cast<std::uint32_t>(bits);
      float f;
      std::memcpy(&f, &narrow, 4);
      return f;
    }
    double d;
    std::memcpy(&d, &bits, 8);
    return d;
  }
  if (type.kind == 'u') return static_cast<double>(bits);
  const int shift = 64 - 8 * type.bytes;  // sign-extend
  return static_cast<double>(static_cast<std::int64_t>(bits << shift) >> shift);
}

std::string shape_text(const std::vector<std::uint64_t>& shape) {
  std::string out = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace

Eigen::MatrixXd read_npy_points(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open file (does it exist and is it readable?)");
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  unsigned char magic[8];
  if (!in.read(reinterpret_cast<char*>(magic), 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    throw InputError(path + ": not a .npy file (it does not start with \\x93NUMPY)");
  const int major = magic[6], minor = magic[7];
  if (major < 1 || major > 3)
    throw InputError(path + ": .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                     " is not supported (1.0 to 3.0 are)");
  unsigned char len[4] = {0, 0, 0, 0};
  const int len_bytes = major == 1 ? 2 : 4;
  if (!in.read(reinterpret_cast<char*>(len), len_bytes)) throw InputError(path + ": truncated .npy header");
  const std::uint64_t header_len = len[0] | (len[1] << 8) | (static_cast<std::uint64_t>(len[2]) << 16) |
                                   (static_cast<std::uint64_t>(len[3]) << 24);
  const std::uint64_t data_start = 8 + len_bytes + header_len;
  if (data_start > file_size)
    throw InputError(path + ": truncated .npy file: the header says it is " + std::to_string(header_len) +
                     " bytes long, the file has " + std::to_string(file_size) + " bytes in all");
  std::string text(header_len, '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(header_len))) throw InputError(path + ": truncated .npy header");
  NpyHeader header(text, path);
  header.parse();
  NpyType type{};
  if (!parse_descr(header.descr, type))
    throw InputError(path + ": .npy dtype '" + header.descr +
                     "' is not supported (float32, float64 or an integer type; e.g. np.save(path, x.astype(np.float64)))");
  if (header.shape.size() != 2)
    throw InputError(path + ": expected a 2-D array (points x coordinates), got shape " + shape_text(header.shape) +
                     (header.shape.size() == 1 ? " (one point? save x.reshape(1, -1))" : ""));
  const std::uint64_t rows = header.shape[0], cols = header.shape[1];
  std::uint64_t count = 0, bytes = 0;
  const std::uint64_t available = file_size - data_start;
  const bool overflow = __builtin_mul_overflow(rows, cols, &count) ||
                        __builtin_mul_overflow(count, static_cast<std::uint64_t>(type.bytes), &bytes);
  if (overflow || bytes != available)
    throw InputError(path + ": shape " + shape_text(header.shape) + " of '" + header.descr + "' needs " +
                     (overflow ? std::string("more than 2^64") : std::to_string(bytes)) + " bytes of data, the file holds " +
                     std::to_string(available) +
                     (overflow || bytes > available ? " (truncated file?)" : " (more than the shape needs: is the shape right?)"));
  if (rows == 0) throw InputError(path + ": no points (shape " + shape_text(header.shape) + ")");
  if (cols == 0) throw InputError(path + ": the points have no coordinates (shape " + shape_text(header.shape) + ")");
  if (rows > static_cast<std::uint64_t>(INT32_MAX) || cols > static_cast<std::uint64_t>(INT32_MAX))
    throw InputError(path + ": shape " + shape_text(header.shape) + " is too large");
  std::vector<unsigned char> data(bytes);
  if (!in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(bytes)))
    throw InputError(path + ": truncated .npy data");
  Eigen::MatrixXd m(rows, cols);
  for (std::uint64_t i = 0; i < rows; ++i)
    for (std::uint64_t j = 0; j < cols; ++j) {
      const std::uint64_t k = header.fortran_order ? j * rows + i : i * cols + j;
      const double v = decode(data.data() + k * type.bytes, type);
      if (!std::isfinite(v))
        throw InputError(path + ": point " + std::to_string(i) + ", coordinate " + std::to_string(j) + " is " +
                         (std::isnan(v) ? "NaN" : "infinite") + " (points must be finite)");
      m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = v;
    }
  return m;
}

// ------------------------------------------------------------------------------------------- CSV

Eigen::MatrixXd read_csv_points(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open file (does it exist and is it readable?)");
  std::vector<double> values;
  std::size_t cols = 0, rows = 0, number = 0;
  bool seen_content = false;
  std::string line;
  while (std::getline(in, line)) {
    ++number;
    const std::string content = trim(line);
    if (content.empty() || content[0] == '#') continue;
    // Split on the first separator character the line uses; spaces only when it has none.
    std::vector<std::string> fields;
    const std::size_t sep_at = content.find_first_of(",;\t");
    if (sep_at != std::string::npos) {
      const char sep = content[sep_at];
      std::stringstream split(content);
      std::string field;
      while (std::getline(split, field, sep)) fields.push_back(trim(field));
      if (content.back() == sep) fields.emplace_back();
    } else {
      std::stringstream split(content);
      std::string field;
      while (split >> field) fields.push_back(field);
    }
    std::vector<double> row;
    std::size_t bad = fields.size(), numbers = 0;
    for (std::size_t f = 0; f < fields.size(); ++f) {
      char* end = nullptr;
      const double v = std::strtod(fields[f].c_str(), &end);
      if (fields[f].empty() || *end != '\0') {
        if (bad == fields.size()) bad = f;
      } else {
        row.push_back(v);
        ++numbers;
      }
    }
    // The first line may be a header of names: none of its fields a number, none empty.
    const bool header = !seen_content && numbers == 0 &&
                        std::none_of(fields.begin(), fields.end(), [](const std::string& f) { return f.empty(); });
    seen_content = true;
    if (header) continue;
    if (bad < fields.size())
      throw InputError(where(path, number, bad) + (fields[bad].empty() ? " is empty" : " is not a number: \"" + fields[bad] + "\""));
    for (std::size_t f = 0; f < row.size(); ++f)
      if (!std::isfinite(row[f]))
        throw InputError(where(path, number, f) + " is " + (std::isnan(row[f]) ? "NaN" : "infinite") + " (\"" + fields[f] +
                         "\"; points must be finite)");
    if (rows > 0 && row.size() != cols)
      throw InputError(path + ":" + std::to_string(number) + ": expected " + std::to_string(cols) + " values, got " +
                       std::to_string(row.size()));
    cols = row.size();
    values.insert(values.end(), row.begin(), row.end());
    ++rows;
  }
  if (rows == 0) throw InputError(path + ": no points");
  Eigen::MatrixXd m(rows, cols);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < cols; ++j) m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = values[i * cols + j];
  return m;
}

}  // namespace relutope::detail
