#include "detail/helper_threads.h"

#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

namespace relutope::detail {

namespace {

// One calling thread's helpers and the job they may join. The helpers hold it too (shared), so that
// it outlives the calling thread until the last helper has seen `quit`.
struct Pool {
  std::mutex mutex;
  std::condition_variable wake;  // helpers: a job opened, or quit
  std::condition_variable idle;  // the caller: the last helper in the job left it
  const std::function<void()>* body = nullptr;  // the open job, or null
  std::uint64_t job = 0;  // which job `body` is: a helper joins each job at most once
  int seats = 0;          // helpers the open job still takes
  int inside = 0;         // helpers calling `body`
  int num_helpers = 0;
  bool quit = false;
  bool woken = false;  // the open job's helpers were woken (run_with_helpers' wake_now, wake_helpers())
};

// A new thread's first allocations make its malloc arena (glibc: a heap of its own, grown a few pages at a
// time, each growth an mprotect call and each page a fault): about 90 faults and 40 calls in the first
// worker of a 2-thread count. Made here, as the helper starts (start_helpers: while the calling thread
// works alone), not in the first task it joins. Below the mmap threshold (128 KiB), and freed whole into
// a heap top below the trim threshold, so the pages stay with the thread.
void warm_allocator() {
  constexpr std::size_t kBytes = 96 * 1024;
  char* volatile block = static_cast<char*>(std::malloc(kBytes));
  if (!block) return;
  for (std::size_t i = 0; i < kBytes; i += 4096) block[i] = 0;
  std::free(block);
}

void helper_loop(const std::shared_ptr<Pool>& pool) {
  warm_allocator();
  std::uint64_t last_job = 0;
  std::unique_lock<std::mutex> lock(pool->mutex);
  for (;;) {
    pool->wake.wait(lock, [&] {
      return pool->quit || (pool->body && pool->woken && pool->job != last_job && pool->seats > 0);
    });
    if (pool->quit) return;
    last_job = pool->job;
    --pool->seats;
    ++pool->inside;
    const std::function<void()>* body = pool->body;
    lock.unlock();
    (*body)();
    lock.lock();
    if (--pool->inside == 0) pool->idle.notify_all();
  }
}

// The calling thread's pool (its Owner's), once it has one.
thread_local Pool* this_threads_pool = nullptr;

// The calling thread's pool; its end tells the helpers to end (they are detached, so a process may
// exit, or fork, without joining them).
struct Owner {
  std::shared_ptr<Pool> pool = std::make_shared<Pool>();
  ~Owner() {
    this_threads_pool = nullptr;
    {
      std::lock_guard<std::mutex> lock(pool->mutex);
      pool->quit = true;
    }
    pool->wake.notify_all();
  }
};

// The calling thread's Owner, with at least `threads` - 1 helpers made (fewer if the system has no more),
// but none added while a job is open (a call from within `body`).
Owner& owner_with_helpers(int threads) {
  thread_local Owner owner;
  this_threads_pool = owner.pool.get();
  Pool& pool = *owner.pool;
  std::lock_guard<std::mutex> lock(pool.mutex);
  for (; !pool.body && pool.num_helpers < threads - 1; ++pool.num_helpers) {
    try {
      std::thread(helper_loop, owner.pool).detach();
    } catch (const std::system_error&) {
      break;  // no more threads to be had: fewer helpers
    }
  }
  return owner;
}

}  // namespace

void wake_helpers() {
  Pool* pool = this_threads_pool;
  if (!pool) return;
  {
    std::lock_guard<std::mutex> lock(pool->mutex);
    if (!pool->body || pool->woken) return;
    pool->woken = true;
  }
  pool->wake.notify_all();
}

void start_helpers(int threads) {
  if (threads > 1) owner_with_helpers(threads);
}

void run_with_helpers(int threads, const std::function<void()>& body, bool wake_now) {
  if (threads <= 1) return body();
  Pool& pool = *owner_with_helpers(threads).pool;
  // Called again from within `body` on this thread (a visitor that enumerates): its helpers are taken,
  // and waiting for them here could wait for ourselves. Only this thread sets `body`.
  if (pool.body) return body();
  {
    std::lock_guard<std::mutex> lock(pool.mutex);
    pool.body = &body;
    ++pool.job;
    pool.seats = threads - 1;
    pool.woken = wake_now;
  }
  if (wake_now) pool.wake.notify_all();
  // Closes the job (late helpers skip it) and waits for the helpers inside it, also when body throws.
  struct Close {
    Pool& pool;
    ~Close() {
      std::unique_lock<std::mutex> lock(pool.mutex);
      pool.body = nullptr;
      pool.seats = 0;
      pool.woken = false;
      pool.idle.wait(lock, [&] { return pool.inside == 0; });
    }
  } close{pool};
  body();
}

}  // namespace relutope::detail
