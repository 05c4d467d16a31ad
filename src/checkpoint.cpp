#include "relutope/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "relutope/error.h"

namespace relutope {

namespace {

constexpr const char* kFormat = "relutope checkpoint";
constexpr int kVersion = 1;
constexpr const char* kChecksumPrefix = "fnv1a64 ";

// FNV-1a, 64 bits: enough to notice a changed byte (a checksum, not a defence against forgery).
class Fnv1a {
 public:
  void add(const void* data, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) hash_ = (hash_ ^ p[i]) * 0x100000001b3ULL;
  }
  void add(double value) { add(&value, sizeof value); }
  void add(std::int64_t value) { add(&value, sizeof value); }
  void add(const Eigen::MatrixXd& m) {
    add(static_cast<std::int64_t>(m.rows()));
    add(static_cast<std::int64_t>(m.cols()));
    for (Eigen::Index j = 0; j < m.cols(); ++j)
      for (Eigen::Index i = 0; i < m.rows(); ++i) add(m(i, j));
  }
  std::string hex() const {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash_));
    return text;
  }

 private:
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

std::string checksum(const std::string& text) {
  Fnv1a hash;
  hash.add(text.data(), text.size());
  return hash.hex();
}

std::string system_error(const std::string& path, const std::string& what) {
  return path + ": cannot " + what + " the checkpoint (" + std::strerror(errno) + ")";
}

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw InputError(path + ": not a usable checkpoint: " + what);
}

}  // namespace

std::string network_fingerprint(const Network& net) {
  Fnv1a hash;
  hash.add(static_cast<std::int64_t>(net.layers.size()));
  for (const Layer& layer : net.layers) {
    hash.add(static_cast<std::int64_t>(layer.activation));
    hash.add(layer.weight);
    hash.add(Eigen::MatrixXd(layer.bias));
    hash.add(Eigen::MatrixXd(layer.negative_slope));
    hash.add(static_cast<std::int64_t>(layer.unit_rows.size()));
    for (int rows : layer.unit_rows) hash.add(static_cast<std::int64_t>(rows));
  }
  return hash.hex();
}

RunIdentity run_identity(const Network& net, const Domain& domain, const EnumerateOptions& options, bool visits) {
  Fnv1a domain_hash;
  domain_hash.add(Eigen::MatrixXd(domain.lo));
  domain_hash.add(Eigen::MatrixXd(domain.hi));
  for (const Halfspace& h : domain.extra) {
    domain_hash.add(Eigen::MatrixXd(h.a));
    domain_hash.add(h.b);
  }
  std::string tolerance;  // the shortest text that reads back as the same double
  for (int digits = 1; digits <= 17; ++digits) {
    std::ostringstream text;
    text.precision(digits);
    text << options.tolerance;
    tolerance = text.str();
    if (std::stod(tolerance) == options.tolerance) break;
  }
  std::string regions = "count";
  if (visits) {
    regions = "regions";
    if (options.with_geometry) regions += "+geometry";
    if (options.with_volume) regions += "+volume";
    if (options.with_vertices) regions += "+vertices";
  }
  const Engine engine = resolve_engine(options.engine, domain.dim(), options.with_vertices || options.with_volume);
  return {{"model", network_fingerprint(net)},
          {"domain", domain.describe() + " #" + domain_hash.hex()},
          {"engine", engine_name(engine)},
          {"tolerance", tolerance},
          {"regions", regions}};
}

void save_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  nlohmann::ordered_json body;
  body["format"] = kFormat;
  body["version"] = kVersion;
  nlohmann::ordered_json identity = nlohmann::ordered_json::object();
  for (const auto& [name, value] : checkpoint.identity) identity[name] = value;
  body["identity"] = identity;
  body["min_tasks"] = checkpoint.state.min_tasks;
  body["num_tasks"] = checkpoint.state.num_tasks;
  body["output_bytes"] = checkpoint.output_bytes;
  // One entry per done task: index, regions, near-degenerate, exact decisions, LPs, LP fallbacks.
  nlohmann::ordered_json done = nlohmann::ordered_json::array();
  for (const auto& [i, t] : checkpoint.state.done)
    done.push_back({i, t.num_regions, t.num_near_degenerate, t.num_exact_decisions, t.num_lps, t.num_lp_fallbacks});
  body["done"] = std::move(done);
  const std::string text = body.dump();
  const std::string file = text + "\n" + kChecksumPrefix + checksum(text) + "\n";

  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw InputError(system_error(temp, "create"));
  std::size_t written = 0;
  while (written < file.size()) {
    const ssize_t n = ::write(fd, file.data() + written, file.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string message = system_error(temp, "write");
      ::close(fd);
      throw InputError(message);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const std::string message = system_error(temp, "sync");
    ::close(fd);
    throw InputError(message);
  }
  ::close(fd);
  if (std::rename(temp.c_str(), path.c_str()) != 0) throw InputError(system_error(path, "rename " + temp + " to"));
  // The rename itself is durable once the folder is synced.
  std::string folder = std::filesystem::path(path).parent_path().string();
  if (folder.empty()) folder = ".";
  const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

Checkpoint load_checkpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open the checkpoint (does it exist and is it readable?)");
  std::ostringstream content;
  content << in.rdbuf();
  const std::string file = content.str();
  // The body, a newline, the checksum line, a newline: anything else is a truncated or damaged file.
  const std::size_t end = file.size() && file.back() == '\n' ? file.size() - 1 : std::string::npos;
  const std::size_t split = end == std::string::npos ? std::string::npos : file.rfind('\n', end - 1);
  if (end == std::string::npos || split == std::string::npos || split == 0)
    bad(path, "it is truncated (no checksum line at the end)");
  const std::string text = file.substr(0, split);
  const std::string sum_line = file.substr(split + 1, end - split - 1);
  if (sum_line.compare(0, std::strlen(kChecksumPrefix), kChecksumPrefix) != 0)
    bad(path, "it is truncated or corrupted (the last line is not \"" + std::string(kChecksumPrefix) + "<16 hex digits>\")");
  if (sum_line.substr(std::strlen(kChecksumPrefix)) != checksum(text))
    bad(path, "it is truncated or corrupted: the checksum " + sum_line.substr(std::strlen(kChecksumPrefix)) +
                  " does not match its content (" + checksum(text) + ")");
  nlohmann::ordered_json body;
  try {
    body = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    bad(path, std::string("invalid JSON: ") + e.what());
  }
  if (!body.is_object()) bad(path, "expected a JSON object");
  const std::set<std::string> known = {"format", "version", "identity", "min_tasks", "num_tasks", "output_bytes", "done"};
  for (const auto& item : body.items())
    if (!known.count(item.key())) bad(path, "unknown key \"" + item.key() + "\" (known: format, version, identity, min_tasks, num_tasks, output_bytes, done)");
  for (const std::string& key : known)
    if (!body.contains(key)) bad(path, "missing key \"" + key + "\"");
  if (body["format"] != kFormat) bad(path, "format: expected \"" + std::string(kFormat) + "\", got " + body["format"].dump());
  if (body["version"] != kVersion)
    bad(path, "version: expected " + std::to_string(kVersion) + ", got " + body["version"].dump() +
                  " (written by another version of relutope)");
  Checkpoint out;
  if (!body["identity"].is_object()) bad(path, "identity: expected an object");
  for (const auto& item : body["identity"].items()) {
    if (!item.value().is_string()) bad(path, "identity." + item.key() + ": expected a string");
    out.identity.emplace_back(item.key(), item.value().get<std::string>());
  }
  for (const char* key : {"min_tasks", "num_tasks", "output_bytes"})
    if (!body[key].is_number_unsigned()) bad(path, std::string(key) + ": expected a whole number >= 0, got " + body[key].dump());
  if (body["min_tasks"].get<std::uint64_t>() < 1 || body["min_tasks"].get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxTasks))
    bad(path, "min_tasks: expected 1 to " + std::to_string(kMaxTasks) + ", got " + body["min_tasks"].dump());
  out.state.min_tasks = body["min_tasks"].get<int>();
  out.state.num_tasks = body["num_tasks"].get<std::uint64_t>();
  out.output_bytes = body["output_bytes"].get<std::uint64_t>();
  if (!body["done"].is_array()) bad(path, "done: expected an array");
  for (std::size_t k = 0; k < body["done"].size(); ++k) {
    const nlohmann::ordered_json& entry = body["done"][k];
    const std::string where = "done[" + std::to_string(k) + "]";
    if (!entry.is_array() || entry.size() != 6)
      bad(path, where + ": expected [task, regions, near_degenerate, exact_decisions, lps, lp_fallbacks]");
    for (const auto& v : entry)
      if (!v.is_number_unsigned()) bad(path, where + ": expected whole numbers >= 0, got " + entry.dump());
    const std::uint64_t i = entry[0].get<std::uint64_t>();
    if (i >= out.state.num_tasks) bad(path, where + ": task " + std::to_string(i) + " of " + std::to_string(out.state.num_tasks));
    if (!out.state.done.empty() && i <= out.state.done.rbegin()->first)
      bad(path, where + ": task " + std::to_string(i) + " is not after the one before (increasing indices expected)");
    out.state.done[i] = TaskTotals{entry[1].get<std::uint64_t>(), entry[2].get<std::uint64_t>(), entry[3].get<std::uint64_t>(),
                                   entry[4].get<std::uint64_t>(), entry[5].get<std::uint64_t>()};
  }
  return out;
}

void check_same_run(const std::string& path, const Checkpoint& saved, const RunIdentity& now) {
  std::ostringstream differences;
  auto value_in = [](const RunIdentity& identity, const std::string& name) -> const std::string* {
    for (const auto& [key, value] : identity)
      if (key == name) return &value;
    return nullptr;
  };
  int count = 0;
  // In the order of this run's identity, then names only the checkpoint has.
  std::vector<std::string> order;
  for (const auto& entry : now) order.push_back(entry.first);
  for (const auto& entry : saved.identity)
    if (!value_in(now, entry.first)) order.push_back(entry.first);
  for (const std::string& name : order) {
    const std::string* before = value_in(saved.identity, name);
    const std::string* after = value_in(now, name);
    if (before && after && *before == *after) continue;
    differences << "\n  " << name << ": checkpoint " << (before ? *before : "(none)") << ", this run "
                << (after ? *after : "(none)");
    ++count;
  }
  if (count)
    throw InputError(path + ": the checkpoint is of another run (" + std::to_string(count) +
                     (count == 1 ? " difference" : " differences") + "); resume with the same model, domain and options:" +
                     differences.str());
}

CheckpointedRun::CheckpointedRun(EnumerateOptions& options, const CheckpointFiles& files, RunIdentity identity)
    : identity_(std::move(identity)) {
  if (!files.resume.empty()) {
    saved_ = load_checkpoint(files.resume);
    check_same_run(files.resume, saved_, identity_);
    resumes_ = true;
    if (files.tasks && files.tasks != saved_.state.min_tasks)
      throw InputError("tasks " + std::to_string(files.tasks) + ": the run saved in " + files.resume + " was cut into " +
                       std::to_string(saved_.state.min_tasks) + " tasks, and a resumed run keeps its cut (leave the tasks out)");
    options.resume = &saved_.state;
    options.min_tasks = saved_.state.min_tasks;
  } else if (!files.checkpoint.empty() && !files.tasks) {
    options.min_tasks = kCheckpointTasks;
  }
  if (files.checkpoint.empty()) return;
  // Where the checkpoint goes must be writable now, not found out at the first save.
  const std::string temp = files.checkpoint + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw InputError("checkpoint: cannot write " + temp + " (" + std::strerror(errno) + ")");
  ::close(fd);
  ::unlink(temp.c_str());
  if (!(files.every_seconds >= 0) || !std::isfinite(files.every_seconds))
    throw InputError("checkpoint every: expected a number of seconds >= 0, got " + std::to_string(files.every_seconds));
  options.checkpoint_seconds = files.every_seconds;
  options.on_checkpoint = [this, path = files.checkpoint](const RunState& state) {
    Checkpoint checkpoint;
    checkpoint.identity = identity_;
    checkpoint.state = state;
    // The output first: the checkpoint may only name bytes that are on disk.
    if (sync_output_) checkpoint.output_bytes = sync_output_();
    save_checkpoint(path, checkpoint);
  };
}

std::uint64_t CheckpointedRun::resumed_regions() const {
  std::uint64_t regions = 0;
  if (resumes_)
    for (const auto& entry : saved_.state.done) regions += entry.second.num_regions;
  return regions;
}

}  // namespace relutope
