// SIGINT and SIGTERM become Storage::cancel() from a normal thread (a
// handler may only set a flag). The flag is the program's one global.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>

namespace sx {
class Storage;
}

namespace sx::cli {

// Installs the handlers (without SA_RESTART) for the program's lifetime.
void install_signal_handlers();
// The signal that interrupted the run, or 0.
int interrupting_signal();

// Cancels `storage` once a signal came, and again every 50 ms after (an
// operation that starts later is cancelled too).
class InterruptWatcher {
 public:
  explicit InterruptWatcher(Storage& storage);
  ~InterruptWatcher();
  InterruptWatcher(const InterruptWatcher&) = delete;
  InterruptWatcher& operator=(const InterruptWatcher&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable stopped_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace sx::cli
