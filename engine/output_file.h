// pull's destination: a temp file next to the final path, renamed over it
// only after everything is verified; removed if the pull fails.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "engine/unique_fd.h"
#include "sx/error.h"

namespace sx::engine {

// A stored file name made safe to create in the current directory: no
// directories, no "..", no control characters, not empty. "../../x" → "x".
std::string sanitize_file_name(std::string_view name);

// Where `out` ("" = cwd, a directory, or a path) puts a file named `name`.
std::string resolve_output_path(const std::string& out, std::string_view name);

class OutputFile {
 public:
  // Refuses an existing target unless `force`; sizes the temp file.
  static Result<OutputFile> create(const std::string& final_path, std::uint64_t size, bool force);
  OutputFile(OutputFile&&) noexcept;
  OutputFile& operator=(OutputFile&&) = delete;
  ~OutputFile();  // unlinks the temp file unless committed

  int fd() const { return fd_.get(); }
  Status write_at(std::span<const std::byte> bytes, std::uint64_t offset) const;
  Status read_at(std::span<std::byte> out, std::uint64_t offset) const;
  // fsync the file, move it to the final path, fsync the directory. Without
  // `replace`, a file that appeared at the final path meanwhile is kept and
  // the commit fails.
  Status commit(bool replace);
  const std::string& temp_path() const { return temp_path_; }

 private:
  OutputFile(UniqueFd fd, std::string temp_path, std::string final_path)
      : fd_(std::move(fd)), temp_path_(std::move(temp_path)), final_path_(std::move(final_path)) {}
  UniqueFd fd_;
  std::string temp_path_;
  std::string final_path_;
  bool committed_ = false;
};

}  // namespace sx::engine
