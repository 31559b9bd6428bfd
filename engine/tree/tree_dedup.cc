#include "engine/tree/tree_dedup.h"

#include <unistd.h>

#include <map>
#include <unordered_map>
#include <vector>

#include "base/text.h"
#include "codec/checksum.h"
#include "engine/tree/tree_source.h"

namespace sx::engine {
namespace {

constexpr std::uint64_t kSampleBytes = 64 << 10;

Result<std::string> digest_of(const WalkedTree::Source& file, bool follow, bool sample_only) {
  auto fd = open_walked_file(file, follow);
  if (!fd) return std::move(fd).error();
  codec::Sha256 hash;
  std::vector<std::byte> buffer(1 << 20);
  const auto read_range = [&](std::uint64_t from, std::uint64_t length) -> Status {
    while (length > 0) {
      const ssize_t n = ::pread(fd->get(), buffer.data(), std::min<std::uint64_t>(length, buffer.size()),
                                static_cast<off_t>(from));
      if (n <= 0) return make_error(Errc::kIo, file.path + " changed while it was pushed (push again when it is quiet)");
      hash.update(std::span(buffer.data(), static_cast<std::size_t>(n)));
      from += static_cast<std::uint64_t>(n);
      length -= static_cast<std::uint64_t>(n);
    }
    return {};
  };
  Status read = {};
  if (sample_only && file.size > 2 * kSampleBytes) {
    read = read_range(0, kSampleBytes);
    if (read) read = read_range(file.size - kSampleBytes, kSampleBytes);
  } else {
    read = read_range(0, file.size);
  }
  if (!read) return std::move(read).error();
  if (!still_as_walked(fd->get(), file))
    return make_error(Errc::kIo, file.path + " changed while it was pushed (push again when it is quiet)");
  return text::to_hex(hash.finish());
}

}  // namespace

Result<std::uint64_t> deduplicate(WalkedTree& tree, bool follow_symlinks, const CancelToken& cancel) {
  // The i-th file entry is read from sources[i] (stream order).
  std::vector<codec::TreeEntry*> files;
  for (codec::TreeEntry& e : tree.entries)
    if (e.type == codec::EntryType::kFile) files.push_back(&e);
  std::unordered_map<std::uint64_t, std::vector<std::size_t>> by_size;
  for (std::size_t i = 0; i < files.size(); ++i)
    if (files[i]->size > 0) by_size[files[i]->size].push_back(i);

  std::vector<std::size_t> original_of(files.size());  // itself unless a duplicate
  for (std::size_t i = 0; i < files.size(); ++i) original_of[i] = i;
  bool any = false;
  for (auto& [size, group] : by_size) {
    if (group.size() < 2) continue;
    std::map<std::string, std::vector<std::size_t>> by_sample;  // ordered: the first index stays first
    for (std::size_t i : group) {
      if (cancel.requested()) return make_error(Errc::kCancelled, "cancelled");
      auto sample = digest_of(tree.sources[i], follow_symlinks, true);
      if (!sample) return std::move(sample).error();
      by_sample[*sample].push_back(i);
    }
    for (auto& [sample, candidates] : by_sample) {
      if (candidates.size() < 2) continue;
      std::unordered_map<std::string, std::size_t> first_with;  // whole digest → the earliest file
      for (std::size_t i : candidates) {  // in stream order within the group
        if (cancel.requested()) return make_error(Errc::kCancelled, "cancelled");
        std::string whole;
        if (size <= 2 * kSampleBytes) {
          whole = sample;  // the sample was all of it
        } else {
          auto digest = digest_of(tree.sources[i], follow_symlinks, false);
          if (!digest) return std::move(digest).error();
          whole = std::move(*digest);
        }
        const auto [it, first] = first_with.emplace(whole, i);
        if (!first) original_of[i] = it->second, any = true;
      }
    }
  }
  if (!any) return std::uint64_t{0};

  // The stream again, without the duplicates: each takes its original's place.
  std::vector<WalkedTree::Source> sources;
  std::uint64_t at = 0, saved = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (original_of[i] != i) continue;
    files[i]->offset = at;
    at += files[i]->size;
    sources.push_back(std::move(tree.sources[i]));
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (original_of[i] == i) continue;
    files[i]->duplicate = true;
    files[i]->offset = files[original_of[i]]->offset;
    saved += files[i]->size;
    tree.duplicate_sources.push_back(std::move(tree.sources[i]));
  }
  tree.sources = std::move(sources);
  tree.stream_bytes = at;
  return saved;
}

Status check_duplicates_unchanged(const WalkedTree& tree, bool follow_symlinks) {
  for (const WalkedTree::Source& file : tree.duplicate_sources) {
    auto fd = open_walked_file(file, follow_symlinks);
    if (!fd) return std::move(fd).error();
  }
  return {};
}

}  // namespace sx::engine
