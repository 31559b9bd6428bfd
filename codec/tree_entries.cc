#include "codec/tree_entries.h"

#include <fmt/format.h>

#include <unordered_map>
#include <unordered_set>

#include "base/text.h"

namespace sx::codec {
namespace {

Error corrupt(std::string_view what) { return Error{Errc::kCorrupt, fmt::format("manifest is invalid: {}", what)}; }

// A path as messages may show it: printable, cut.
std::string shown(std::string_view path) {
  std::string out;
  for (char c : path.substr(0, 120)) out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?' : c);
  return out;
}

void append_text(fmt::memory_buffer& out, std::string_view field, std::string_view text) {
  const std::string literal = text::json_string(text);
  fmt::format_to(std::back_inserter(out), R"(,"{}":{})", field, literal);
  if (!text::valid_utf8(text))
    fmt::format_to(std::back_inserter(out), R"(,"{}_hex":"{}")", field,
                   text::to_hex(std::as_bytes(std::span<const char>(text.data(), text.size()))));
}

}  // namespace

std::string_view entry_type_name(EntryType type) {
  switch (type) {
    case EntryType::kFile: return "file";
    case EntryType::kDirectory: return "dir";
    case EntryType::kSymlink: return "link";
  }
  return "file";
}

std::string tree_json(const std::vector<TreeEntry>& entries) {
  fmt::memory_buffer out;
  auto it = std::back_inserter(out);
  fmt::format_to(it, R"(,"tree":[)");
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const TreeEntry& e = entries[i];
    fmt::format_to(it, R"({}{{"type":"{}")", i == 0 ? "" : ",", entry_type_name(e.type));
    append_text(out, "path", e.path);
    fmt::format_to(it, R"(,"mode":{},"mtime_ns":{})", e.mode, e.mtime_ns);
    if (e.type == EntryType::kFile) fmt::format_to(it, R"(,"size":{},"offset":{})", e.size, e.offset);
    if (e.type == EntryType::kFile && e.duplicate) fmt::format_to(it, R"(,"dup":true)");
    if (e.type == EntryType::kSymlink) append_text(out, "target", e.target);
    fmt::format_to(it, "}}");
  }
  fmt::format_to(it, "]");
  return fmt::to_string(out);
}

Status check_tree_path(std::string_view path) {
  if (path.empty()) return corrupt("a tree entry has an empty path");
  if (path.size() > kMaxTreePath) return corrupt("a tree path is longer than 4096 bytes");
  if (path.find('\0') != std::string_view::npos) return corrupt("a tree path holds a NUL byte");
  if (path.front() == '/') return corrupt(fmt::format("tree path \"{}\" is absolute", shown(path)));
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = path.find('/', start);
    const std::string_view part = path.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (part.empty()) return corrupt(fmt::format("tree path \"{}\" has an empty component", shown(path)));
    if (part == "." || part == "..")
      return corrupt(fmt::format("tree path \"{}\" has a \"{}\" component", shown(path), part));
    if (part.size() > kMaxTreeComponent)
      return corrupt(fmt::format("tree path \"{}\" has a component longer than 255 bytes", shown(path)));
    if (slash == std::string_view::npos) return {};
    start = slash + 1;
  }
}

Status check_tree_entries(const std::vector<TreeEntry>& entries, std::uint64_t stream_size) {
  std::unordered_set<std::string_view> directories;
  std::uint64_t stream_at = 0;  // where the next file must start
  std::unordered_map<std::uint64_t, std::uint64_t> file_starts;  // non-empty files that are not duplicates: offset → size
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const TreeEntry& e = entries[i];
    if (auto valid = check_tree_path(e.path); !valid) return valid;
    if (i > 0 && !(entries[i - 1].path < e.path))
      return corrupt(fmt::format("tree path \"{}\" is out of order or given twice", shown(e.path)));
    const std::size_t slash = e.path.rfind('/');
    if (slash != std::string::npos && !directories.count(std::string_view(e.path).substr(0, slash)))
      return corrupt(fmt::format("the parent of tree path \"{}\" is not a directory of the tree", shown(e.path)));
    if (e.mode > 07777) return corrupt(fmt::format("tree path \"{}\" has mode {:o}", shown(e.path), e.mode));
    switch (e.type) {
      case EntryType::kDirectory: directories.insert(e.path); break;
      case EntryType::kFile:
        if (e.duplicate) {
          const auto original = file_starts.find(e.offset);
          if (e.size == 0 || original == file_starts.end() || original->second != e.size)
            return corrupt(fmt::format("duplicate file \"{}\" is not the size and offset of an earlier file",
                                       shown(e.path)));
          break;
        }
        if (e.size > 0) file_starts.emplace(e.offset, e.size);
        if (e.offset != stream_at || e.size > stream_size - stream_at)
          return corrupt(fmt::format("file \"{}\" does not start where the file before it ends ({}) or lies past "
                                     "the tree's {} bytes",
                                     shown(e.path), stream_at, stream_size));
        stream_at += e.size;
        break;
      case EntryType::kSymlink:
        if (e.target.empty() || e.target.size() > kMaxTreePath || e.target.find('\0') != std::string::npos)
          return corrupt(fmt::format("symlink \"{}\" has an empty, overlong or NUL-holding target", shown(e.path)));
        break;
    }
  }
  if (stream_at != stream_size)
    return corrupt(fmt::format("the tree's files hold {} bytes, its pieces {}", stream_at, stream_size));
  return {};
}

}  // namespace sx::codec
