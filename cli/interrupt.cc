#include "cli/interrupt.h"

#include <signal.h>

#include <chrono>
#include <csignal>

#include "sx/storage.h"

namespace sx::cli {
namespace {

volatile std::sig_atomic_t g_signal = 0;  // the one allowed global (STYLE.md §4)

void on_signal(int signal) { g_signal = signal; }

}  // namespace

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a blocking call returns EINTR
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int interrupting_signal() { return g_signal; }

InterruptWatcher::InterruptWatcher(Storage& storage)
    : thread_([this, &storage] {
        std::unique_lock lock(mutex_);
        while (!stop_) {
          if (g_signal) storage.cancel();
          // Woken at once by the destructor: a sleep here added up to 50 ms to every command's exit.
          stopped_.wait_for(lock, std::chrono::milliseconds(50));
        }
      }) {}

InterruptWatcher::~InterruptWatcher() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  stopped_.notify_one();
  thread_.join();
}

}  // namespace sx::cli
