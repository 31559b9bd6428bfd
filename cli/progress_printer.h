// Progress on stderr: a live line on a terminal, a log line every few
// seconds otherwise, NDJSON events on stdout with --json, nothing with --quiet.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

#include "sx/progress.h"

namespace sx::cli {

enum class ProgressMode { kQuiet, kTerminal, kLog, kJson };

ProgressMode choose_progress_mode(bool quiet, bool json);

// Text from servers and manifests made safe for a terminal line: control
// characters (newlines, ESC) become \xNN escapes.
std::string printable(std::string_view text);

// 1536 → "1.5 KiB", as the progress line shows sizes.
std::string human_bytes(double bytes);

// A time as ls -l and tar tv show it, in local time: "2026-12-04 15:07".
std::string local_minute(std::int64_t seconds_since_epoch);

class ProgressPrinter final : public ProgressSink {
 public:
  explicit ProgressPrinter(ProgressMode mode) : mode_(mode) {}
  void on_start(std::string_view operation, std::uint64_t total_bytes, std::uint64_t pieces) override;
  void on_piece(std::uint64_t index, std::uint64_t bytes) override;
  void on_retry(std::string_view url, int attempt, std::string_view reason) override;
  void on_finish(std::uint64_t bytes, double seconds, long retries) override;
  void on_resume(std::string_view operation, std::uint64_t done, std::uint64_t total) override;
  void on_note(std::string_view text) override;
  void on_file(std::string_view path, std::uint64_t bytes, std::uint64_t done, std::uint64_t total) override;
  // Ends the live line so an error message starts on its own line.
  void close_line();
  // --json: the failure as an event ({"event":"error",…}); nothing otherwise.
  void on_error(std::string_view code, int exit_status, std::string_view message);

 private:
  void print_status(bool force);  // with mutex_ held

  ProgressMode mode_;
  std::mutex mutex_;  // guards everything below and the output streams
  std::string operation_;
  std::uint64_t total_bytes_ = 0;
  std::uint64_t total_pieces_ = 0;
  std::uint64_t done_bytes_ = 0;
  std::uint64_t done_pieces_ = 0;
  long retries_ = 0;
  std::uint64_t done_files_ = 0;
  std::uint64_t total_files_ = 0;  // a tree's; 0 otherwise
  std::string last_retry_;  // shown on the live line while a request is being retried
  bool line_open_ = false;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_print_;
};

}  // namespace sx::cli
