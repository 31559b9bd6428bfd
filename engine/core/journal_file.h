// The file under a resumable push or pull: a header line, then one record
// line per piece done. Each line ends with its own CRC-32, so a line torn by
// a crash (SIGKILL, power loss) is recognised and dropped with whatever
// follows; the header is written to a temp file and renamed into place, so
// a journal exists whole or not at all. Mode 0600 (a push journal holds the
// content key). Held under flock() so two runs never share one.
#pragma once

#include <string>
#include <vector>

#include "engine/core/unique_fd.h"
#include "sx/error.h"

namespace sx::engine {

class JournalFile {
 public:
  // Opens `path` if its header is `identity` followed by a space (what makes
  // a run the same); `payload` then receives the rest of its header and
  // `records` its records. Otherwise (none, another identity, unreadable) a
  // new journal with header "identity payload" replaces it. kInvalidArgument
  // when another run holds it.
  static Result<JournalFile> open(const std::string& path, const std::string& identity, std::string& payload,
                                  std::vector<std::string>& records);

  // Appends one record (no newlines). Thread-safe for whole lines (O_APPEND).
  Status append(const std::string& record);
  // Deletes the journal (the run finished).
  void remove();
  bool resumed() const { return resumed_; }

  // The header a journal file holds, or "" (for tests and diagnostics).
  static std::string read_header(const std::string& path);

 private:
  JournalFile(UniqueFd fd, std::string path, bool resumed)
      : fd_(std::move(fd)), path_(std::move(path)), resumed_(resumed) {}
  UniqueFd fd_;
  std::string path_;
  bool resumed_ = false;

 public:
  JournalFile(JournalFile&&) noexcept = default;
  JournalFile& operator=(JournalFile&&) noexcept = default;
};

}  // namespace sx::engine
