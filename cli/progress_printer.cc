#include "cli/progress_printer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <ctime>

#include "base/text.h"

namespace sx::cli {

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) bytes /= 1024, ++unit;
  return fmt::format("{:.1f} {}", bytes, units[unit]);
}

std::string local_minute(std::int64_t seconds_since_epoch) {
  const std::time_t t = static_cast<std::time_t>(seconds_since_epoch);
  std::tm tm{};
  if (::localtime_r(&t, &tm) == nullptr) return "?";
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M", &tm);
  return buffer;
}

std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) out += fmt::format("\\x{:02x}", u);
    else out += c;
  }
  return out;
}

ProgressMode choose_progress_mode(bool quiet, bool json) {
  if (json) return ProgressMode::kJson;
  if (quiet) return ProgressMode::kQuiet;
  return ::isatty(STDERR_FILENO) ? ProgressMode::kTerminal : ProgressMode::kLog;
}

void ProgressPrinter::on_start(std::string_view operation, std::uint64_t total_bytes,
                               std::uint64_t pieces) {
  std::lock_guard lock(mutex_);
  operation_ = std::string(operation);
  total_bytes_ = total_bytes;
  total_pieces_ = pieces;
  done_bytes_ = done_pieces_ = done_files_ = total_files_ = 0;
  started_ = last_print_ = std::chrono::steady_clock::now();
  if (mode_ == ProgressMode::kJson)
    fmt::print(stdout, "{{\"event\":\"start\",\"operation\":\"{}\",\"bytes\":{},\"pieces\":{}}}\n",
               operation_, total_bytes, pieces);
}

void ProgressPrinter::on_piece(std::uint64_t index, std::uint64_t bytes) {
  std::lock_guard lock(mutex_);
  done_bytes_ += bytes;
  ++done_pieces_;
  last_retry_.clear();
  if (mode_ == ProgressMode::kJson)
    fmt::print(stdout, "{{\"event\":\"piece\",\"index\":{},\"bytes\":{}}}\n", index, bytes);
  else
    print_status(false);
}

void ProgressPrinter::on_retry(std::string_view url, int attempt, std::string_view reason) {
  std::lock_guard lock(mutex_);
  ++retries_;
  if (mode_ == ProgressMode::kJson) {
    fmt::print(stdout, "{{\"event\":\"retry\",\"url\":{},\"attempt\":{},\"reason\":{}}}\n",
               text::json_string(url), attempt, text::json_string(reason));
  } else if (mode_ == ProgressMode::kLog) {
    fmt::print(stderr, "sxengine: retry {} of {}: {}\n", attempt, printable(url), printable(reason));
  } else if (mode_ == ProgressMode::kTerminal) {
    // A hung server retried for minutes must not look like a frozen line.
    last_retry_ = fmt::format("retry {}: {}", attempt, printable(reason).substr(0, 60));
    print_status(true);
  }
}

void ProgressPrinter::on_finish(std::uint64_t bytes, double seconds, long retries) {
  std::lock_guard lock(mutex_);
  const double mbps = seconds > 0 ? bytes / seconds / 1e6 : 0;
  if (mode_ == ProgressMode::kJson) {
    fmt::print(stdout,
               "{{\"event\":\"summary\",\"operation\":\"{}\",\"bytes\":{},\"seconds\":{:.3f},"
               "\"mbps\":{:.1f},\"pieces\":{},\"retries\":{}}}\n",
               operation_, bytes, seconds, mbps, done_pieces_, retries);
    std::fflush(stdout);
    return;
  }
  if (mode_ == ProgressMode::kQuiet) return;
  print_status(true);
  if (line_open_) std::fputc('\n', stderr), line_open_ = false;
  fmt::print(stderr, "sxengine: {} {} in {:.2f} s ({:.1f} MB/s, {} pieces, {} retries)\n", operation_,
             human_bytes(static_cast<double>(bytes)), seconds, mbps, done_pieces_, retries);
}

void ProgressPrinter::on_error(std::string_view code, int exit_status, std::string_view message) {
  std::lock_guard lock(mutex_);
  if (mode_ != ProgressMode::kJson) return;
  fmt::print(stdout, "{{\"event\":\"error\",\"code\":{},\"exit\":{},\"message\":{}}}\n", text::json_string(code),
             exit_status, text::json_string(message));
  std::fflush(stdout);
}

void ProgressPrinter::on_resume(std::string_view operation, std::uint64_t done, std::uint64_t total) {
  std::lock_guard lock(mutex_);
  const char* what = operation == "push" ? "stored" : "written";
  if (mode_ == ProgressMode::kJson) {
    fmt::print(stdout, "{{\"event\":\"resume\",\"operation\":\"{}\",\"done\":{},\"pieces\":{}}}\n", operation, done,
               total);
  } else if (mode_ != ProgressMode::kQuiet) {
    // Said even when progress is off for a pipe: the user should know this run continued another.
    if (line_open_) std::fputc('\n', stderr), line_open_ = false;
    if (total) fmt::print(stderr, "sxengine: resuming: {} of {} pieces already {}\n", done, total, what);
    else fmt::print(stderr, "sxengine: resuming: {} pieces already {}\n", done, what);
  }
}

void ProgressPrinter::on_note(std::string_view text) {
  std::lock_guard lock(mutex_);
  if (mode_ == ProgressMode::kJson) {
    fmt::print(stdout, "{{\"event\":\"note\",\"message\":{}}}\n", text::json_string(text));
  } else if (mode_ != ProgressMode::kQuiet) {
    if (line_open_) std::fputc('\n', stderr), line_open_ = false;
    fmt::print(stderr, "sxengine: {}\n", text);
  }
}

void ProgressPrinter::on_file(std::string_view path, std::uint64_t bytes, std::uint64_t done, std::uint64_t total) {
  std::lock_guard lock(mutex_);
  done_files_ = done;
  total_files_ = total;
  if (mode_ == ProgressMode::kJson)
    fmt::print(stdout, "{{\"event\":\"file\",\"path\":{},\"bytes\":{},\"done\":{},\"files\":{}}}\n",
               text::json_string(path), bytes, done, total);
  else
    print_status(false);
}

void ProgressPrinter::close_line() {
  std::lock_guard lock(mutex_);
  if (line_open_) std::fputc('\n', stderr), line_open_ = false;
}

void ProgressPrinter::print_status(bool force) {
  if (mode_ == ProgressMode::kQuiet || mode_ == ProgressMode::kJson) return;
  const auto now = std::chrono::steady_clock::now();
  const auto interval = mode_ == ProgressMode::kTerminal ? std::chrono::milliseconds(250)
                                                         : std::chrono::milliseconds(5000);
  if (!force && now - last_print_ < interval) return;
  last_print_ = now;
  const double seconds = std::chrono::duration<double>(now - started_).count();
  const double rate = seconds > 0 ? done_bytes_ / seconds : 0;
  std::string eta = "?";
  if (total_bytes_ > 0 && rate > 0)
    eta = fmt::format("{:.0f} s", static_cast<double>(total_bytes_ - std::min(done_bytes_, total_bytes_)) / rate);
  // An unknown total (stdin, a FIFO) shows the pieces done, not "1/0".
  const std::string pieces = total_pieces_ ? fmt::format("{}/{}", done_pieces_, total_pieces_)
                                           : fmt::format("{}", done_pieces_);
  std::string line =
      fmt::format("{} {} / {}  {}/s  ETA {}  pieces {}  retries {}", operation_,
                  human_bytes(static_cast<double>(done_bytes_)),
                  total_bytes_ ? human_bytes(static_cast<double>(total_bytes_)) : std::string("?"),
                  human_bytes(rate), eta, pieces, retries_);
  if (total_files_ > 0) line += fmt::format("  files {}/{}", done_files_, total_files_);
  if (!last_retry_.empty()) line += "  (" + last_retry_ + ")";
  if (mode_ == ProgressMode::kTerminal) {
    fmt::print(stderr, "\r\x1b[2K{}", line);
    line_open_ = true;
  } else {
    fmt::print(stderr, "sxengine: {}\n", line);
  }
}

}  // namespace sx::cli
