// Progress events of a push or pull. Called concurrently from the worker
// threads (pieces), the event loop's thread (retries) and the thread that
// called the operation (start, resume, note, finish): implementations
// synchronize themselves and return quickly, and must not call back into
// the Storage that reports to them.
#pragma once

#include <cstdint>
#include <string_view>

#include "sx/export.h"

namespace sx {

class SX_EXPORT ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  // `total_bytes` is 0 when unknown (push from stdin).
  virtual void on_start(std::string_view operation, std::uint64_t total_bytes,
                        std::uint64_t pieces) = 0;
  virtual void on_piece(std::uint64_t index, std::uint64_t bytes) = 0;
  virtual void on_retry(std::string_view url, int attempt, std::string_view reason) = 0;
  virtual void on_finish(std::uint64_t bytes, double seconds, long retries) = 0;
  // A push or pull continues an interrupted one: `done` of `total` pieces
  // (total 0: unknown) need not move again.
  virtual void on_resume(std::string_view /*operation*/, std::uint64_t /*done*/, std::uint64_t /*total*/) {}
  // Something the user should know that does not stop the operation (a
  // resumed piece that failed its re-check, a push that cannot keep a
  // journal). One line, no newline.
  virtual void on_note(std::string_view /*text*/) {}
  // A tree push read all of a file's bytes, or a tree pull wrote them (to its
  // temp file: the tree's files take their names when the pull succeeds).
  // `path` is the entry's path in the tree; `done` of `total` files so far.
  virtual void on_file(std::string_view /*path*/, std::uint64_t /*bytes*/, std::uint64_t /*done*/,
                       std::uint64_t /*total*/) {}
};

}  // namespace sx
