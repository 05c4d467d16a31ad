#include "cli_common.h"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include "option_values.h"
#include "relutope/error.h"

namespace relutope::cli {

std::string domain_note(const CountingDomain& chosen) {
  if (chosen.origin == DomainOrigin::kDefault) return " (default; set another with --box)";
  if (chosen.origin == DomainOrigin::kModel) return " (from the model file)";
  if (chosen.slice) return " in the coordinates of " + chosen.slice->description;
  return "";
}

// "i,j,k": whole numbers; whether they are rows of the points, on_plane and on_line check.
template <std::size_t N>
std::array<Eigen::Index, N> parse_rows(const std::string& text) {
  std::array<Eigen::Index, N> out{};
  std::stringstream in(text);
  std::string item;
  std::size_t count = 0;
  while (std::getline(in, item, ',')) {
    std::size_t used = 0;
    long v = -1;
    try {
      v = std::stol(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || v < 0) throw InputError("\"" + item + "\" is not a row number (0, 1, ...)");
    if (count < N) out[count] = v;
    ++count;
  }
  if (count != N) throw InputError("expected " + std::to_string(N) + " row indices, got \"" + text + "\"");
  return out;
}

template std::array<Eigen::Index, 2> parse_rows<2>(const std::string& text);
template std::array<Eigen::Index, 3> parse_rows<3>(const std::string& text);

std::pair<double, double> parse_segment(const std::string& text) {
  if (text.empty()) return {0.0, 1.0};
  const auto comma = text.find(',');
  double t[2] = {0, 0};
  bool ok = comma != std::string::npos;
  for (int k = 0; k < 2 && ok; ++k) {
    const std::string item = k == 0 ? text.substr(0, comma) : text.substr(comma + 1);
    std::size_t used = 0;
    try {
      t[k] = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    ok = !item.empty() && used == item.size() && std::isfinite(t[k]);
  }
  if (!ok) throw InputError("--segment: expected t0,t1 (two numbers), got \"" + text + "\"");
  if (!(t[0] < t[1])) throw InputError("--segment: expected t0 < t1, got \"" + text + "\"");
  return {t[0], t[1]};
}

CountingDomain choose_domain(Network net, const DomainOptions& where) {
  const int given = !where.box.empty() + !where.domain.empty() + !where.plane.empty() + !where.line.empty();
  if (given > 1) throw InputError("give only one of --box, --domain, --plane and --line");
  if (!where.segment.empty() && where.line.empty())
    throw InputError("--segment picks part of the --line segment: give --line i,j");
  if ((!where.plane.empty() || !where.line.empty()) && where.points.empty())
    throw InputError("--plane and --line pick rows of --points: give --points FILE (CSV or .npy)");
  if (!where.plane.empty()) {
    const auto rows = with_option_name("--plane", [&] { return parse_rows<3>(where.plane); });
    PlaneRegion region = PlaneRegion::kTriangle;
    if (where.plane_region == "box") region = PlaneRegion::kSquare;
    else if (where.plane_region != "triangle")
      throw InputError("--plane-region: expected triangle or box, got \"" + where.plane_region + "\"");
    const bool scaled = !std::isnan(where.plane_scale);
    if (scaled && !(where.plane_scale > 0)) {
      std::ostringstream message;
      message << "--plane-scale: expected a positive number, got " << where.plane_scale;
      throw InputError(message.str());
    }
    if (scaled && region == PlaneRegion::kTriangle && where.plane_scale != 1)
      throw InputError("--plane-scale with --plane-region triangle: only the plane walk (count --engine segment on an "
                       "ONNX graph) counts part of the triangle");
    const double scale = scaled ? where.plane_scale : 1.5;
    const Eigen::MatrixXd points = load_points(where.points);
    return with_option_name("--plane", [&] { return on_plane(net, points, rows, region, scale, where.points); });
  }
  if (!where.line.empty()) {
    const auto rows = with_option_name("--line", [&] { return parse_rows<2>(where.line); });
    const auto [t_begin, t_end] = parse_segment(where.segment);
    const Eigen::MatrixXd points = load_points(where.points);
    return with_option_name("--line", [&] { return on_line(net, points, rows, where.points, t_begin, t_end); });
  }
  if (!where.box.empty()) {
    Domain box = with_option_name("--box", [&] { return parse_box(where.box, net.input_dim()); });
    return on_domain(std::move(net), std::move(box), DomainOrigin::kBox);
  }
  if (!where.domain.empty()) {
    Domain polytope = load_polytope_domain(where.domain);
    return with_option_name(where.domain, [&] { return on_domain(std::move(net), std::move(polytope), DomainOrigin::kPolytope); });
  }
  return default_domain(std::move(net));
}

std::string network_summary(const CountingDomain& chosen) {
  const Network& net = chosen.net;
  const std::vector<int> widths = net.hidden_widths();
  std::ostringstream out;
  out << net.input_dim() << " input" << (net.input_dim() == 1 ? "" : "s") << " -> hidden "
      << (widths.empty() ? std::string("none") : join(widths)) << " (" << net.num_neurons() << " neurons) -> "
      << net.output_dim() << " output" << (net.output_dim() == 1 ? "" : "s");
  if (chosen.slice) out << " [" << chosen.slice->description << "; x = origin + basis * u]";
  return out.str();
}

Progress::Progress(EnumerateOptions& options, bool quiet, std::uint64_t resumed)
    : options_(options), start_(std::chrono::steady_clock::now()), resumed_(resumed) {
  if (quiet) return;
  if (const char* text = std::getenv("RELUTOPE_PROGRESS_SECONDS")) {
    char* end = nullptr;
    log_seconds_ = std::strtod(text, &end);
    if (end == text || *end || !(log_seconds_ > 0) || !std::isfinite(log_seconds_))
      throw InputError(std::string("RELUTOPE_PROGRESS_SECONDS: expected a positive number of seconds, got \"") + text + "\"");
  }
  if (!isatty(STDERR_FILENO)) {  // a log: a line now and then, nothing to clear
    options.progress = [this](std::uint64_t found) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      if (seconds - last_logged_ < log_seconds_) return;
      last_logged_ = seconds;
      std::fprintf(stderr, "relutope: %s regions so far, %.0f regions/s, %.0f s\n", with_commas(found).c_str(),
                   (found - resumed_) / seconds, seconds);
      std::fflush(stderr);
    };
    return;
  }
  options.progress = [this](std::uint64_t found) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (seconds < 1.0) return;
    std::fprintf(stderr, "\r  %s regions so far, %.0f regions/s, %.1f s   ", with_commas(found).c_str(),
                 (found - resumed_) / seconds, seconds);
    std::fflush(stderr);
    shown_ = true;
  };
}

namespace {

std::atomic<bool> g_stop_requested{false};
std::atomic<int> g_stop_signal{0};  // the first signal that stopped the run
struct sigaction g_previous_int, g_previous_term;

extern "C" void on_stop_signal(int signal_number) {
  int none = 0;
  g_stop_signal.compare_exchange_strong(none, signal_number);
  if (g_stop_requested.exchange(true)) {  // the second one: end now, as the default action does
    ::signal(signal_number, SIG_DFL);
    ::raise(signal_number);
    return;
  }
  static const char kMessage[] = "\nrelutope: stopping; the regions found so far follow (a second signal ends at once)\n";
  const ssize_t ignored = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  (void)ignored;
}

void check_seconds(const char* flag, double value) {
  if (!(value >= 0) || !std::isfinite(value)) {
    std::ostringstream message;
    message << flag << ": expected a number of seconds >= 0, got " << value;
    throw InputError(message.str());
  }
}

}  // namespace

LongRun::LongRun(EnumerateOptions& options, const LongRunFlags& flags) : options_(options) {
  check_seconds("--time-limit", flags.time_limit);
  check_seconds("--checkpoint-every", flags.checkpoint_every);
  options.time_limit = flags.time_limit;
  if (flags.max_regions < 0)
    throw InputError("--max-regions: expected a number of regions >= 0 (0 = no limit), got " + std::to_string(flags.max_regions));
  options.max_regions = static_cast<std::uint64_t>(flags.max_regions);
  if (flags.tasks < 0 || flags.tasks > kMaxTasks)
    throw InputError("--tasks: expected 0 (the default) or a number of tasks from 1 to " + std::to_string(kMaxTasks) +
                     ", got " + std::to_string(flags.tasks));
  options.min_tasks = static_cast<int>(flags.tasks);
  g_stop_requested = false;
  g_stop_signal = 0;
  options.stop = &g_stop_requested;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &g_previous_int);
  sigaction(SIGTERM, &action, &g_previous_term);
}

LongRun::~LongRun() {
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
  options_.stop = nullptr;
}

CheckpointFiles checkpoint_files(const LongRunFlags& flags) {
  CheckpointFiles files;
  files.checkpoint = flags.checkpoint;
  files.every_seconds = flags.checkpoint_every;
  files.resume = flags.resume;
  files.tasks = flags.tasks;
  return files;
}

std::string regions_line(const EnumerateStats& stats) {
  const std::string count = with_commas(stats.num_regions) + (stats.num_regions == 1 ? " region" : " regions");
  if (stats.complete) return count;
  return "at least " + count + " (stopped: " + stop_text(stats) + ")";
}

std::string stop_text(const EnumerateStats& stats) {
  if (stats.stopped == StopReason::kStopped && g_stop_signal)
    return g_stop_signal == SIGINT ? "SIGINT" : g_stop_signal == SIGTERM ? "SIGTERM" : "signal";
  return stop_reason_name(stats.stopped);
}

Progress::~Progress() {
  options_.progress = nullptr;
  if (shown_) std::fprintf(stderr, "\r%60s\r", "");
}

std::string with_commas(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string approximately(double value) {
  if (!std::isfinite(value)) return value > 0 ? "infinitely many" : "?";
  if (value < 1e6) return with_commas(static_cast<std::uint64_t>(std::llround(std::max(value, 0.0))));
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", value);
  return text;
}

std::string duration_text(double seconds) {
  char text[48];
  // Two significant digits, but "160 days" rather than %g's "1.6e+02 days".
  const auto print = [&](double value, const char* unit) {
    std::snprintf(text, sizeof text, value >= 99.5 && value < 1e6 ? "%.0f %s" : "%.2g %s", value, unit);
  };
  if (seconds < 60) print(seconds, "s");
  else if (seconds < 3600) print(seconds / 60, "min");
  else if (seconds < 86400 * 2) print(seconds / 3600, "h");
  else if (seconds < 86400 * 365 * 2) print(seconds / 86400, "days");
  else print(seconds / (86400 * 365.25), "years");
  return text;
}

std::string join(const std::vector<int>& values, const char* separator) {
  std::ostringstream out;
  for (std::size_t i = 0; i < values.size(); ++i) out << (i ? separator : "") << values[i];
  return out.str();
}

nlohmann::ordered_json domain_object(const CountingDomain& chosen) {
  return nlohmann::ordered_json::parse(relutope::domain_json(chosen));
}

}  // namespace relutope::cli
