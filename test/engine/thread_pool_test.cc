// Tests engine/core/thread_pool.h: a task that throws never ends the process;
// its on_error gets the error and the workers go on.
#include <doctest/doctest.h>

#include <latch>
#include <mutex>
#include <new>
#include <stdexcept>
#include <vector>

#include "engine/core/thread_pool.h"

using namespace sx;

TEST_CASE("thread pool: a task that throws hands its error to on_error and the workers go on") {
  std::mutex mutex;  // guards errors, ran
  std::vector<Error> errors;
  int ran = 0;
  std::latch done(4);
  {
    engine::ThreadPool pool(2);
    const auto record = [&](Error e) {
      {
        std::lock_guard lock(mutex);
        errors.push_back(std::move(e));
      }
      done.count_down();
    };
    pool.post([] { throw std::runtime_error("boom"); }, record);
    pool.post([] { throw std::bad_alloc(); }, record);
    for (int i = 0; i < 2; ++i)
      pool.post(
          [&] {
            {
              std::lock_guard lock(mutex);
              ++ran;
            }
            done.count_down();
          },
          record);
    done.wait();
  }
  REQUIRE(errors.size() == 2);
  CHECK(ran == 2);
  bool saw_boom = false, saw_memory = false;
  for (const Error& e : errors) {
    saw_boom = saw_boom || (e.code == Errc::kIo && e.message == "internal error: boom");
    saw_memory = saw_memory || (e.code == Errc::kLimit && e.message == "out of memory");
  }
  CHECK(saw_boom);
  CHECK(saw_memory);
}
