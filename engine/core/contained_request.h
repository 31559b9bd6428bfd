// A backend request whose completion runs exactly once even when the
// backend throws before it answered: the exception becomes the request's
// error (base/exception_error.h), so the piece's slot is given back and the
// operation fails with it instead of terminating or waiting. What the
// completion itself throws goes on to the thread's barrier (ThreadPool's
// on_error, the event loop's).
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <utility>

#include "base/exception_error.h"
#include "sx/error.h"

namespace sx::engine {

// `start(done)` issues the request with the guarded completion.
template <class Value, class Start>
void contained_request(Start&& start, std::function<void(Result<Value>)> done) {
  struct Once {
    std::atomic<bool> called{false};
    std::atomic<bool> completion_threw{false};
    std::function<void(Result<Value>)> done;
  };
  auto once = std::make_shared<Once>();
  once->done = std::move(done);
  const auto complete = [once](Result<Value> result) {
    if (once->called.exchange(true)) return;
    try {
      once->done(std::move(result));
    } catch (...) {
      once->completion_threw = true;
      throw;
    }
  };
  try {
    start(complete);
  } catch (...) {
    if (once->completion_threw) throw;  // the completion's own: the thread's barrier's
    if (once->called) return;           // the backend threw after answering: its answer stands
    complete(error_from_exception(std::current_exception()));
  }
}

}  // namespace sx::engine
