#include "engine/tree/tree_pull.h"

#include <fnmatch.h>

#include <algorithm>
#include <chrono>
#include <unordered_set>

#include "engine/pull/downloader.h"
#include "engine/pull/file_digest.h"
#include "engine/tree/tree_output.h"

namespace sx::engine {
namespace {

bool matches_any(const std::vector<std::string>& globs, const std::string& path) {
  for (const std::string& glob : globs)
    if (::fnmatch(glob.c_str(), path.c_str(), 0) == 0) return true;
  return false;
}

// The glob list matches the path or one of its directories.
bool matches_here_or_above(const std::vector<std::string>& globs, const std::string& path) {
  if (matches_any(globs, path)) return true;
  for (std::size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1))
    if (matches_any(globs, path.substr(0, slash))) return true;
  return false;
}

// The pieces that hold [offset, offset + size) of the stream, by the
// pieces' own offsets (contiguous: parse_manifest checks it).
IndexRange pieces_of(const codec::Manifest& m, std::uint64_t offset, std::uint64_t size) {
  const auto after = [](std::uint64_t value, const codec::PieceEntry& p) { return value < p.offset; };
  const auto first = std::upper_bound(m.pieces.begin(), m.pieces.end(), offset, after) - m.pieces.begin() - 1;
  const auto last = std::upper_bound(m.pieces.begin(), m.pieces.end(), offset + size - 1, after) - m.pieces.begin() - 1;
  return {static_cast<std::uint64_t>(first), static_cast<std::uint64_t>(last) + 1};
}

}  // namespace

std::vector<const codec::TreeEntry*> select_entries(const codec::Manifest& manifest,
                                                    const std::vector<std::string>& include,
                                                    const std::vector<std::string>& exclude) {
  std::vector<const codec::TreeEntry*> kept;
  std::unordered_set<std::string> holding;  // directories that hold a kept entry
  for (const codec::TreeEntry& e : manifest.tree) {
    const bool in = include.empty() || matches_here_or_above(include, e.path);
    if (!in || (!exclude.empty() && matches_here_or_above(exclude, e.path))) continue;
    kept.push_back(&e);
    for (std::size_t slash = e.path.find('/'); slash != std::string::npos; slash = e.path.find('/', slash + 1))
      holding.insert(e.path.substr(0, slash));
  }
  if (include.empty() && exclude.empty()) return kept;
  // The directories on the way to what is kept, in tree order with the rest.
  std::unordered_set<const codec::TreeEntry*> already(kept.begin(), kept.end());
  std::vector<const codec::TreeEntry*> all;
  for (const codec::TreeEntry& e : manifest.tree)
    if (already.count(&e) || (e.type == codec::EntryType::kDirectory && holding.count(e.path))) all.push_back(&e);
  return all;
}

Result<std::string> pull_tree(Context& ctx, net::Backend& backend, const CheckedManifest& checked,
                              const std::optional<codec::ContentKey>& content_key, const std::string& out) {
  const codec::Manifest& m = checked.manifest();
  const Options& o = ctx.options;
  if (out == "-")
    return make_error(Errc::kInvalidArgument, "a tree key cannot go to standard output: give a directory (or none: here)");
  const std::vector<const codec::TreeEntry*> kept = select_entries(m, o.include, o.exclude);
  if (kept.empty()) return make_error(Errc::kNotFound, "no entry of the tree matches --include/--exclude");
  std::vector<const codec::TreeEntry*> files;
  std::vector<IndexRange> ranges;
  std::uint64_t bytes = 0;
  for (const codec::TreeEntry* e : kept) {
    if (e->type != codec::EntryType::kFile) continue;
    files.push_back(e);
    if (e->size == 0) continue;
    bytes += e->size;
    const IndexRange r = pieces_of(m, e->offset, e->size);
    if (!ranges.empty() && r.begin <= ranges.back().end) ranges.back().end = std::max(ranges.back().end, r.end);
    else ranges.push_back(r);
  }
  const bool whole = bytes == m.size;  // every piece: the tree's digest can be checked

  auto output = TreeOutput::open(out, o.force, o.fsync);
  if (!output) return std::move(output).error();
  if (auto prepared = output->prepare(kept); !prepared) return std::move(prepared).error();
  const auto started = std::chrono::steady_clock::now();
  std::uint64_t pieces = 0;
  for (const IndexRange& r : ranges) pieces += r.end - r.begin;
  report(o.progress, [&](ProgressSink& p) { p.on_start("pull", bytes, pieces); });

  // Files back to back in tree order (check_tree_entries), pieces in order:
  // one file open at a time, each piece's bytes handed to the files it holds.
  std::size_t next = 0;  // the first file not yet complete
  bool file_open = false;
  const auto write_file_bytes = [&](const codec::PieceEntry& piece, std::span<const std::byte> payload) -> Status {
    const std::uint64_t piece_end = piece.offset + payload.size();
    while (next < files.size()) {
      const codec::TreeEntry& f = *files[next];
      const std::uint64_t end = f.offset + f.size;
      if (f.size > 0 && f.offset >= piece_end) break;
      if (!file_open) {
        if (auto begun = output->begin_file(f); !begun) return begun;
        file_open = true;
      }
      if (f.size > 0) {
        const std::uint64_t from = std::max(f.offset, piece.offset), to = std::min(end, piece_end);
        if (from < to)
          if (auto written = output->write(payload.subspan(from - piece.offset, to - from)); !written) return written;
        if (end > piece_end) break;  // it goes on in the next piece
      }
      if (auto ended = output->end_file(); !ended) return ended;
      file_open = false;
      ++next;
      report(o.progress, [&](ProgressSink& p) { p.on_file(f.path, f.size, next, files.size()); });
    }
    return {};
  };
  std::optional<FileDigestCheck> digest;
  if (whole) digest.emplace(m, OrderedHasher::ReadBack{});
  Downloader downloader(ctx, backend, checked, content_key);
  FetchOptions in_order;
  in_order.in_order = true;
  Status fetched = downloader.fetch(
      ranges,
      [&](const codec::PieceEntry& piece, std::span<const std::byte> payload) -> Status {
        if (auto written = write_file_bytes(piece, payload); !written) return written;
        if (digest) return digest->landed(piece, payload);
        return {};
      },
      in_order);
  if (!fetched) return std::move(fetched).error();
  // Empty files after the last piece (or a tree with no bytes at all).
  const codec::PieceEntry none{};
  if (auto rest = write_file_bytes(none, {}); !rest) return std::move(rest).error();
  if (next != files.size()) return make_error(Errc::kCorrupt, "the tree's pieces ended before its files did");
  if (digest)
    if (auto good = digest->finish(); !good) return std::move(good).error();
  if (auto committed = output->commit(); !committed) return std::move(committed).error();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  report(o.progress, [&](ProgressSink& p) { p.on_finish(bytes, seconds, ctx.all_retries()); });
  return output->dir();
}

}  // namespace sx::engine
