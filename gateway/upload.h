// PUT /upload/NAME: the request body goes through a pipe into an ordinary
// push (sx::Storage::upload reads the pipe as it reads stdin: to EOF, size
// unknown), on a thread of its own with a Storage of its own.
#pragma once

#include <atomic>
#include <memory>
#include <span>
#include <string>
#include <thread>

#include "sx/error.h"
#include "sx/options.h"
#include "sx/storage.h"

namespace sx::gateway {

class Upload {
 public:
  // `name` is the stored file name (already checked).
  static Result<std::unique_ptr<Upload>> start(const Options& options, const std::string& name);
  ~Upload();  // abort()s unless finished
  Upload(const Upload&) = delete;
  Upload& operator=(const Upload&) = delete;

  // Connection thread; blocks while the push is behind. Fails once the push
  // stopped (its reason comes from finish()).
  Status write(std::span<const char> bytes);
  // The body is complete: EOF to the push, then its key.
  Result<std::string> finish();
  // The client went away: the push is cancelled, nothing is kept as a key.
  void abort();

 private:
  Upload(const Options& options) : storage_(options) {}
  void join();

  Storage storage_;
  int write_fd_ = -1;
  int read_fd_ = -1;  // closed by the push thread when it returns: a blocked write() then fails
  std::thread thread_;
  Result<std::string> result_ = make_error(Errc::kIo, "no result");
  bool joined_ = true;
  std::atomic<bool> done_{false};  // the push returned
};

}  // namespace sx::gateway
