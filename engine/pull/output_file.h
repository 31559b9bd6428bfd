// pull's destination: a temp file next to the final path, renamed over it
// only after everything is verified; removed if the pull fails.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "engine/core/unique_fd.h"
#include "sx/error.h"

namespace sx::engine {

// A stored file name made safe to create in the current directory: no
// directories, no "..", no control characters, not empty. "../../x" → "x".
std::string sanitize_file_name(std::string_view name);

// Where `out` ("" = cwd, a directory, or a path) puts a file named `name`.
std::string resolve_output_path(const std::string& out, std::string_view name);

class OutputFile {
 public:
  // Refuses an existing target unless `force`; sizes the temp file. With a
  // `resume_tag` (what identifies the pull) the temp file has a fixed name,
  // ".NAME.sxpart-rTAG", and an earlier one of the right size is reopened as
  // it is (resumed() says so), with its journal beside it (journal_path()).
  static Result<OutputFile> create(const std::string& final_path, std::uint64_t size, bool force,
                                   const std::string& resume_tag = {});
  OutputFile(OutputFile&&) noexcept;
  OutputFile& operator=(OutputFile&&) = delete;
  ~OutputFile();  // unlinks the temp file unless committed

  int fd() const { return fd_.get(); }
  Status write_at(std::span<const std::byte> bytes, std::uint64_t offset) const;
  Status read_at(std::span<std::byte> out, std::uint64_t offset) const;
  // Moves the file to the final path; `durable` (--fsync) fsyncs it first and
  // the directory after. Without `replace`, a file that appeared at the final
  // path meanwhile is kept and the commit fails.
  Status commit(bool replace, bool durable = true);
  const std::string& temp_path() const { return temp_path_; }
  const std::string& journal_path() const { return journal_path_; }
  bool resumed() const { return resumed_; }
  // Leaves the temp file for a later run to resume (a failure it can fix).
  void keep() { kept_ = true; }

 private:
  OutputFile(UniqueFd fd, std::string temp_path, std::string final_path)
      : fd_(std::move(fd)), temp_path_(std::move(temp_path)), final_path_(std::move(final_path)) {}
  UniqueFd fd_;
  std::string temp_path_;
  std::string final_path_;
  std::string journal_path_;
  bool resumed_ = false;
  bool kept_ = false;
  bool committed_ = false;
};

}  // namespace sx::engine
