// push's input: a file, a FIFO, a device or stdin, read (never mapped) into
// the caller's buffers, so the bytes hashed are the bytes stored, a file
// truncated underneath is an error rather than SIGBUS, and a size that lies
// (/proc files report 0) does not cut the input short: it is read to EOF.
// Every read waits in poll() beside the cancel token, so Ctrl-C ends a push
// that waits on a FIFO with no writer or on a silent stdin.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "engine/core/cancel_token.h"
#include "engine/core/unique_fd.h"
#include "sx/error.h"

namespace sx::engine {

class InputFile {
 public:
  // "-" is stdin. Opening a FIFO waits (cancellably) for its writer.
  static Result<InputFile> open(const std::string& path, const CancelToken& cancel);

  // The size a regular file reports; nullopt when it cannot be trusted
  // (stdin, FIFOs, devices, 0-byte /proc files).
  std::optional<std::uint64_t> expected_size() const { return expected_size_; }

  // Fills `into` up to its size; fewer bytes only at EOF (0 = the end).
  Result<std::size_t> read(std::span<std::byte> into);

  // What identifies this input for resuming: path, size, modification time
  // and a digest of its first and last 64 KiB (read with pread, leaving the
  // read position alone). nullopt for inputs that cannot be resumed (stdin,
  // FIFOs, devices, files of unknown size).
  std::optional<std::string> identity() const;

  // After EOF: fails when a regular file changed while it was read (its size
  // or modification time differ, or it yielded more or fewer bytes).
  Status check_unchanged() const;

 private:
  InputFile(UniqueFd fd, bool owned, std::string path, const CancelToken& cancel)
      : fd_(std::move(fd)), owned_(owned), path_(std::move(path)), cancel_(&cancel) {}
  Status wait_readable();

  UniqueFd fd_;
  bool owned_ = true;  // false for stdin: not closed
  std::string path_;
  const CancelToken* cancel_;
  std::optional<std::uint64_t> expected_size_;
  bool regular_ = false;
  std::int64_t mtime_ns_ = 0;
  std::uint64_t read_bytes_ = 0;

 public:
  InputFile(InputFile&& other) noexcept = default;
  ~InputFile() {
    if (!owned_) fd_.release();
  }
};

}  // namespace sx::engine
