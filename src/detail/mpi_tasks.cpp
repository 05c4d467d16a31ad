// The MPI side of detail/mpi_tasks.h (the protocol is described there). Built with RELUTOPE_WITH_MPI.
//
// Why point-to-point messages to a thread of rank 0 rather than MPI_Fetch_and_op on a counter window:
// rank 0 needs a thread that receives the results anyway, and with Open MPI 4.1 (Debian 12) a
// passive-target atomic on another node progresses only when the target enters the MPI library
// (there is no asynchronous progress thread), i.e. through that same polling thread. A request then
// costs what a fetch-and-add costs, works with every osc component, and can ask for several tasks at
// once; docs/scaling.md gives the measured rates.
#include "detail/mpi_tasks.h"

#include <mpi.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "relutope/error.h"

namespace relutope::detail {

namespace {

using Clock = std::chrono::steady_clock;

enum Tag : int { kRequest = 1, kTasks, kResult, kProgress, kStop, kDone, kFinish };

// Texts of a task go in pieces of at most this many bytes (an MPI count is an int).
constexpr std::size_t kMaxPieceBytes = std::size_t{16} << 20;
constexpr std::chrono::microseconds kMinPoll{50}, kMaxPoll{1000};
constexpr std::chrono::milliseconds kProgressEvery{250};
constexpr std::size_t kMaxBatch = 4096;  // tasks in one kTasks message

void check(int code, const char* what) {
  if (code != MPI_SUCCESS) {
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw Error(std::string("MPI: ") + what + " failed: " + std::string(text, static_cast<std::size_t>(length)));
  }
}

// A little byte buffer for the messages: fixed-size values and strings, read back in the same order.
struct Writer {
  std::string bytes;
  template <class T>
  void put(const T& value) {
    bytes.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  void put_text(const std::string& text) {
    put<std::uint64_t>(text.size());
    bytes += text;
  }
  void put_totals(const TaskTotals& t) {
    for (std::uint64_t v : {t.num_regions, t.num_near_degenerate, t.num_exact_decisions, t.num_lps, t.num_lp_fallbacks}) put(v);
  }
};
struct Reader {
  const std::string& bytes;
  std::size_t at = 0;
  template <class T>
  T get() {
    if (at + sizeof(T) > bytes.size()) throw Error("MPI: a message from another rank is shorter than its contents");
    T value;
    std::memcpy(&value, bytes.data() + at, sizeof value);
    at += sizeof value;
    return value;
  }
  std::string get_text() {
    const auto size = get<std::uint64_t>();
    if (at + size > bytes.size()) throw Error("MPI: a message from another rank is shorter than its contents");
    std::string text = bytes.substr(at, size);
    at += size;
    return text;
  }
  TaskTotals get_totals() {
    TaskTotals t;
    for (std::uint64_t* v : {&t.num_regions, &t.num_near_degenerate, &t.num_exact_decisions, &t.num_lps, &t.num_lp_fallbacks})
      *v = get<std::uint64_t>();
    return t;
  }
};

// An exception as (kind, text), to send it to another rank and rebuild it there.
enum ErrorKind : int { kNoError = 0, kInput, kUncertified, kCancelled, kOther };
std::pair<int, std::string> describe(std::exception_ptr error) {
  if (!error) return {kNoError, ""};
  try {
    std::rethrow_exception(error);
  } catch (const InputError& e) {
    return {kInput, e.what()};
  } catch (const UncertifiedError& e) {
    return {kUncertified, e.what()};
  } catch (const Cancelled& e) {
    return {kCancelled, e.what()};
  } catch (const std::exception& e) {
    return {kOther, e.what()};
  } catch (...) {
    return {kOther, "unknown exception"};
  }
}
std::exception_ptr rebuild(int kind, const std::string& text) {
  switch (kind) {
    case kNoError: return nullptr;
    case kInput: return std::make_exception_ptr(InputError(text));
    case kUncertified: return std::make_exception_ptr(UncertifiedError(text));
    case kCancelled: return std::make_exception_ptr(Cancelled(text));
    default: return std::make_exception_ptr(Error(text));
  }
}

void send_bytes(const std::string& bytes, int to, int tag, MPI_Comm comm) {
  check(MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, to, tag, comm), "MPI_Send");
}
template <class T>
void send_value(const T* values, std::size_t n, int to, int tag, MPI_Comm comm) {
  check(MPI_Send(values, static_cast<int>(n * sizeof(T)), MPI_BYTE, to, tag, comm), "MPI_Send");
}
std::string receive_bytes(const MPI_Status& probed, MPI_Comm comm) {
  int size = 0;
  check(MPI_Get_count(&probed, MPI_BYTE, &size), "MPI_Get_count");
  std::string bytes(static_cast<std::size_t>(size), '\0');
  check(MPI_Recv(bytes.data(), size, MPI_BYTE, probed.MPI_SOURCE, probed.MPI_TAG, comm, MPI_STATUS_IGNORE), "MPI_Recv");
  return bytes;
}

}  // namespace

std::optional<MpiWorld> mpi_world(bool wanted) {
  if (!wanted) return std::nullopt;
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) return std::nullopt;
  MpiWorld world;
  MPI_Comm_rank(MPI_COMM_WORLD, &world.rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world.size);
  if (world.size < 2) return std::nullopt;
  int provided = MPI_THREAD_SINGLE;
  MPI_Query_thread(&provided);
  if (provided < MPI_THREAD_SERIALIZED)
    throw Error("MPI: a distributed run needs MPI_THREAD_SERIALIZED or more (MPI_Init_thread); this MPI gave level " +
                std::to_string(provided));
  return world;
}

int mpi_broadcast(int value) {
  check(MPI_Bcast(&value, 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Bcast");
  return value;
}

int mpi_sum(int value) {
  int sum = 0;
  check(MPI_Allreduce(&value, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
  return sum;
}

bool mpi_check_same_cut(std::uint64_t num_tasks, bool stopped) {
  unsigned long long mine[3] = {num_tasks, ~static_cast<unsigned long long>(num_tasks), stopped}, most[3];
  check(MPI_Allreduce(mine, most, 3, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
  if (most[2]) return true;
  if (most[0] != num_tasks || ~most[1] != num_tasks)
    throw Error("MPI: the ranks cut the search into different numbers of tasks (" + std::to_string(~most[1]) + " to " +
                std::to_string(most[0]) + "): they were not given the same network, domain and options");
  return false;
}

void mpi_broadcast_stats(EnumerateStats& stats, std::exception_ptr error) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  Writer w;
  if (rank == 0) {
    const auto [kind, text] = describe(error);
    w.put<int>(kind);
    w.put_text(text);
    TaskTotals t;
    t.num_regions = stats.num_regions;
    t.num_near_degenerate = stats.num_near_degenerate;
    t.num_exact_decisions = stats.num_exact_decisions;
    t.num_lps = stats.num_lps;
    t.num_lp_fallbacks = stats.num_lp_fallbacks;
    w.put_totals(t);
    for (std::uint64_t v : {stats.num_tasks, stats.num_tasks_resumed, stats.num_regions_resumed}) w.put(v);
    w.put<int>(stats.complete);
    w.put<int>(static_cast<int>(stats.stopped));
    w.put<std::uint64_t>(stats.busy_seconds.size());
    for (double s : stats.busy_seconds) w.put(s);
  }
  std::uint64_t length = w.bytes.size();
  check(MPI_Bcast(&length, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
  w.bytes.resize(length);
  check(MPI_Bcast(w.bytes.data(), static_cast<int>(length), MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Bcast");
  if (rank == 0) {
    if (error) std::rethrow_exception(error);
    return;
  }
  Reader r{w.bytes};
  const int kind = r.get<int>();
  const std::string text = r.get_text();
  if (error) std::rethrow_exception(error);  // this rank's own
  if (kind != kNoError) std::rethrow_exception(rebuild(kind, text));
  const TaskTotals t = r.get_totals();
  stats.num_regions = t.num_regions;
  stats.num_near_degenerate = t.num_near_degenerate;
  stats.num_exact_decisions = t.num_exact_decisions;
  stats.num_lps = t.num_lps;
  stats.num_lp_fallbacks = t.num_lp_fallbacks;
  stats.num_tasks = r.get<std::uint64_t>();
  stats.num_tasks_resumed = r.get<std::uint64_t>();
  stats.num_regions_resumed = r.get<std::uint64_t>();
  stats.complete = r.get<int>() != 0;
  stats.stopped = static_cast<StopReason>(r.get<int>());
  stats.busy_seconds.resize(r.get<std::uint64_t>());
  for (double& s : stats.busy_seconds) s = r.get<double>();
  stats.num_ranks = size;
}

class MpiTaskChannel::Impl : public TaskSource, public TaskResults {
 public:
  Impl(const MpiWorld& world, RunControl& run, int threads, int total_threads, std::vector<std::int64_t> pending,
       TaskResults* collector)
      : world_(world), run_(run), threads_(threads), total_threads_(std::max(1, total_threads)),
        pending_(std::move(pending)), collector_(collector),
        busy_(static_cast<std::size_t>(world.size), 0.0), last_found_(static_cast<std::size_t>(world.size), 0) {
    check(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
    thread_ = std::thread([this] { loop(); });
  }
  ~Impl() override {
    if (thread_.joinable()) {  // finish() was not called (an exception between construction and it)
      {
        std::lock_guard<std::mutex> lock(mutex_);
        local_done_ = true;
      }
      wake_.notify_all();
      thread_.join();
    }
    MPI_Comm_free(&comm_);
  }

  bool root() const { return world_.rank == 0; }

  // TaskSource: rank 0 from its counter, the others from the tasks rank 0 sent ahead.
  std::int64_t next() override {
    if (root()) {
      if (run_.should_stop()) return -1;
      return take_pending();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      if (!queue_.empty()) {
        const std::int64_t i = queue_.front();
        queue_.pop_front();
        lock.unlock();
        wake_.notify_all();  // ask for more
        return i;
      }
      if (exhausted_ || run_.should_stop()) return -1;
      wake_.notify_all();
      tasks_came_.wait_for(lock, std::chrono::milliseconds(10));
    }
  }

  // TaskResults: rank 0 into its collector, the others into the outbox.
  void finished(std::uint64_t i, const TaskTotals& totals, TaskOutput&& output) override {
    if (root()) {
      std::lock_guard<std::mutex> lock(collect_mutex_);
      collector_->finished(i, totals, std::move(output));
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      outbox_.push_back(Outgoing{i, totals, std::move(output.texts)});
    }
    wake_.notify_all();
  }
  void abandoned(const TaskTotals& totals) override {
    if (root()) {
      std::lock_guard<std::mutex> lock(collect_mutex_);
      collector_->abandoned(totals);
      return;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    abandoned_.num_regions += totals.num_regions;
    abandoned_.num_near_degenerate += totals.num_near_degenerate;
    abandoned_.num_exact_decisions += totals.num_exact_decisions;
    abandoned_.num_lps += totals.num_lps;
    abandoned_.num_lp_fallbacks += totals.num_lp_fallbacks;
  }

  Outcome finish(std::exception_ptr error, double busy_seconds) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      local_done_ = true;
      local_error_ = error;
      busy_[static_cast<std::size_t>(world_.rank)] = busy_seconds;
    }
    wake_.notify_all();
    thread_.join();
    if (thread_error_) std::rethrow_exception(thread_error_);
    Outcome outcome;
    outcome.error = error ? error : remote_error_;
    if (root()) outcome.busy_seconds = busy_;
    else outcome.busy_seconds = {busy_seconds};
    return outcome;
  }

 private:
  struct Outgoing {
    std::uint64_t index;
    TaskTotals totals;
    std::vector<std::string> texts;
  };

  std::int64_t take_pending() {
    const std::size_t k = next_.fetch_add(1, std::memory_order_relaxed);
    return k < pending_.size() ? pending_[k] : -1;
  }

  void loop() {
    try {
      if (root()) serve();
      else work();
    } catch (...) {
      // An MPI failure: nothing more can be exchanged; stop this rank's workers and report it.
      thread_error_ = std::current_exception();
      run_.request_stop(StopReason::kStopped);
      std::lock_guard<std::mutex> lock(mutex_);
      exhausted_ = true;
      tasks_came_.notify_all();
    }
  }

  // Waits for local events (a result, a worker wanting tasks, the end) or the poll interval.
  void pause(bool busy) {
    poll_ = busy ? kMinPoll : std::min(poll_ * 2, std::chrono::duration_cast<std::chrono::microseconds>(kMaxPoll));
    if (busy) return;
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, poll_);
  }

  // Rank 0's channel thread: hands out tasks, takes results, relays stops, until every rank is done.
  void serve() {
    int ranks_done = 0;
    bool stop_sent = false;
    std::vector<bool> done(static_cast<std::size_t>(world_.size), false);
    std::map<std::pair<int, std::uint64_t>, std::vector<std::string>> partial;  // texts of results in pieces
    for (;;) {
      bool busy = false;
      int flag = 0;
      MPI_Status status;
      for (;;) {
        check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm_, &flag, &status), "MPI_Iprobe");
        if (!flag) break;
        busy = true;
        const int from = status.MPI_SOURCE;
        const std::string bytes = receive_bytes(status, comm_);
        Reader r{bytes};
        switch (status.MPI_TAG) {
          case kRequest: {
            // Guided self-scheduling: a share of what is left (a quarter of an even share per thread
            // of the job), at least what the rank asked for. Large batches first hide the round trip
            // (with many small tasks rank 0's own threads, which need none, took nearly all of them);
            // single tasks at the end even out the ranks' finishing times.
            const std::size_t taken = std::min(next_.load(), pending_.size());
            const std::size_t share = (pending_.size() - taken) / (4 * static_cast<std::size_t>(total_threads_));
            const int wanted = std::max(r.get<int>(), static_cast<int>(std::min<std::size_t>(share, kMaxBatch)));
            std::vector<std::int64_t> give;
            const bool stopping = run_.should_stop();
            for (int k = 0; k < wanted && !stopping; ++k) {
              const std::int64_t i = take_pending();
              give.push_back(i);
              if (i < 0) break;
            }
            if (stopping) give.push_back(-1);
            post(std::string(reinterpret_cast<const char*>(give.data()), give.size() * sizeof(std::int64_t)), from, kTasks);
            break;
          }
          case kResult: {
            const auto index = r.get<std::uint64_t>();
            const bool last = r.get<std::uint8_t>();
            std::vector<std::string>& texts = partial[{from, index}];
            for (auto n = r.get<std::uint64_t>(); n > 0; --n) texts.push_back(r.get_text());
            if (!last) break;
            const TaskTotals totals = r.get_totals();
            TaskOutput output;
            output.texts = std::move(texts);
            partial.erase({from, index});
            collect([&] { collector_->finished(index, totals, std::move(output)); });
            break;
          }
          case kProgress: {
            const auto found = r.get<std::uint64_t>();
            auto& last = last_found_[static_cast<std::size_t>(from)];
            if (found > last) run_.add_found(found - last);
            last = std::max(last, found);
            break;
          }
          case kDone: {
            const auto reason = static_cast<StopReason>(r.get<int>());
            const TaskTotals abandoned = r.get_totals();
            busy_[static_cast<std::size_t>(from)] = r.get<double>();
            const int kind = r.get<int>();
            const std::string text = r.get_text();
            collect([&] { collector_->abandoned(abandoned); });
            if (reason != StopReason::kNone) run_.request_stop(reason);
            if (kind != kNoError) {
              if (!remote_error_) remote_error_ = rebuild(kind, "rank " + std::to_string(from) + ": " + text);
              run_.request_stop(StopReason::kStopped);
            }
            done[static_cast<std::size_t>(from)] = true;
            ++ranks_done;
            break;
          }
          default:
            throw Error("MPI: unexpected message tag " + std::to_string(status.MPI_TAG) + " from rank " + std::to_string(from));
        }
      }
      if (!stop_sent && run_.should_stop()) {
        const int reason = static_cast<int>(run_.stop_reason());
        for (int to = 1; to < world_.size; ++to)
          if (!done[static_cast<std::size_t>(to)]) post(std::string(reinterpret_cast<const char*>(&reason), sizeof reason), to, kStop);
        stop_sent = true;
      }
      bool local_done;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        local_done = local_done_;
      }
      if (local_done && ranks_done == world_.size - 1) break;
      complete_sends(false);
      pause(busy);
    }
    for (int to = 1; to < world_.size; ++to) post(std::string(), to, kFinish);
    complete_sends(true);
  }

  // Rank 0 never blocks in a send: a rank blocked sending it a large result while it blocked sending
  // that rank a large batch of tasks would wait for each other forever. Its messages go with
  // MPI_Isend and stay here until they are out.
  void post(std::string bytes, int to, int tag) {
    sends_.emplace_back();
    sends_.back().second = std::move(bytes);
    const std::string& b = sends_.back().second;
    check(MPI_Isend(b.data(), static_cast<int>(b.size()), MPI_BYTE, to, tag, comm_, &sends_.back().first), "MPI_Isend");
  }
  void complete_sends(bool all) {
    while (!sends_.empty()) {
      int done = 0;
      if (all) check(MPI_Wait(&sends_.front().first, MPI_STATUS_IGNORE), "MPI_Wait"), done = 1;
      else check(MPI_Test(&sends_.front().first, &done, MPI_STATUS_IGNORE), "MPI_Test");
      if (!done) return;
      sends_.pop_front();
    }
  }

  // Feeds the collector from this thread, serially with rank 0's workers; an exception from it (the
  // consumer failing, e.g. a full disk) ends the run as one from a worker would.
  template <class F>
  void collect(F&& f) {
    std::lock_guard<std::mutex> lock(collect_mutex_);
    if (remote_error_) return;
    try {
      f();
    } catch (...) {
      remote_error_ = std::current_exception();
      run_.request_stop(StopReason::kStopped);
    }
  }

  // The channel thread of the other ranks: asks for tasks ahead of the workers, sends results and
  // progress, says when this rank is done and waits for rank 0's kFinish.
  void work() {
    int asked = 0;  // tasks asked for and not yet received
    bool done_sent = false;
    auto last_progress = Clock::now();
    const int ahead = 2 * threads_;  // tasks kept queued beyond the running ones
    for (;;) {
      bool busy = false;
      int flag = 0;
      MPI_Status status;
      bool finished = false;
      for (;;) {
        check(MPI_Iprobe(0, MPI_ANY_TAG, comm_, &flag, &status), "MPI_Iprobe");
        if (!flag) break;
        busy = true;
        const std::string bytes = receive_bytes(status, comm_);
        Reader r{bytes};
        if (status.MPI_TAG == kTasks) {
          std::lock_guard<std::mutex> lock(mutex_);
          for (std::size_t k = 0; k < bytes.size() / sizeof(std::int64_t); ++k) {
            const auto i = r.get<std::int64_t>();
            if (i < 0) exhausted_ = true;
            else queue_.push_back(i);
          }
          asked = 0;
          tasks_came_.notify_all();
        } else if (status.MPI_TAG == kStop) {
          run_.request_stop(static_cast<StopReason>(r.get<int>()));
          std::lock_guard<std::mutex> lock(mutex_);
          tasks_came_.notify_all();
        } else if (status.MPI_TAG == kFinish) {
          finished = true;
        } else {
          throw Error("MPI: unexpected message tag " + std::to_string(status.MPI_TAG) + " from rank 0");
        }
      }
      if (finished) break;
      std::deque<Outgoing> out;
      int want = 0;
      bool local_done;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        out.swap(outbox_);
        if (!exhausted_ && asked == 0 && !run_.should_stop()) want = ahead + threads_ - static_cast<int>(queue_.size());
        local_done = local_done_;
      }
      for (Outgoing& o : out) send_result(o), busy = true;
      if (want > threads_ / 2 && !local_done) {
        send_value(&want, 1, 0, kRequest, comm_);
        asked = want;
        busy = true;
      }
      const bool final_progress = local_done && !done_sent;
      if (final_progress || Clock::now() - last_progress >= kProgressEvery) {
        const std::uint64_t found = run_.found();
        send_value(&found, 1, 0, kProgress, comm_);
        last_progress = Clock::now();
      }
      if (local_done && !done_sent) {
        Writer w;
        TaskTotals abandoned;
        std::exception_ptr error;
        double busy_seconds;
        {
          std::lock_guard<std::mutex> lock(mutex_);
          abandoned = abandoned_;
          error = local_error_;
          busy_seconds = busy_[static_cast<std::size_t>(world_.rank)];
        }
        w.put<int>(static_cast<int>(run_.stop_reason()));
        w.put_totals(abandoned);
        w.put<double>(busy_seconds);
        const auto [kind, text] = describe(error);
        w.put<int>(kind);
        w.put_text(text);
        send_bytes(w.bytes, 0, kDone, comm_);
        done_sent = true;
      }
      pause(busy);
    }
  }

  void send_result(Outgoing& o) {
    std::size_t k = 0;
    do {
      Writer w;
      w.put<std::uint64_t>(o.index);
      const std::size_t first = k;
      std::size_t bytes = 0;
      while (k < o.texts.size() && (k == first || bytes + o.texts[k].size() <= kMaxPieceBytes)) bytes += o.texts[k++].size();
      const bool last = k == o.texts.size();
      w.put<std::uint8_t>(last);
      w.put<std::uint64_t>(k - first);
      for (std::size_t j = first; j < k; ++j) w.put_text(o.texts[j]);
      if (last) w.put_totals(o.totals);
      if (w.bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        throw Error("MPI: one region's text is larger than 2 GB");
      send_bytes(w.bytes, 0, kResult, comm_);
    } while (k < o.texts.size());
  }

  const MpiWorld world_;
  RunControl& run_;
  const int threads_;
  const int total_threads_;  // of the whole job
  MPI_Comm comm_ = MPI_COMM_NULL;
  std::thread thread_;
  std::exception_ptr thread_error_;
  std::chrono::microseconds poll_{kMinPoll};

  // rank 0
  const std::vector<std::int64_t> pending_;
  std::atomic<std::size_t> next_{0};
  TaskResults* collector_;
  std::mutex collect_mutex_;
  std::exception_ptr remote_error_;  // the first error of another rank or of the collector fed here
  std::deque<std::pair<MPI_Request, std::string>> sends_;  // rank 0's messages under way

  // shared between the workers and the channel thread
  std::mutex mutex_;
  std::condition_variable wake_;        // the channel thread: something to send or the end
  std::condition_variable tasks_came_;  // the workers (other ranks): tasks, their end or a stop
  std::deque<std::int64_t> queue_;
  bool exhausted_ = false;
  std::deque<Outgoing> outbox_;
  TaskTotals abandoned_;
  bool local_done_ = false;
  std::exception_ptr local_error_;
  std::vector<double> busy_;
  std::vector<std::uint64_t> last_found_;
};

MpiTaskChannel::MpiTaskChannel(const MpiWorld& world, RunControl& run, int threads, int total_threads,
                               std::vector<std::int64_t> pending, TaskResults* collector)
    : impl_(std::make_unique<Impl>(world, run, threads, total_threads, std::move(pending), collector)) {}
MpiTaskChannel::~MpiTaskChannel() = default;
TaskSource& MpiTaskChannel::source() { return *impl_; }
TaskResults& MpiTaskChannel::results() { return *impl_; }
MpiTaskChannel::Outcome MpiTaskChannel::finish(std::exception_ptr error, double busy_seconds) {
  return impl_->finish(error, busy_seconds);
}

}  // namespace relutope::detail
