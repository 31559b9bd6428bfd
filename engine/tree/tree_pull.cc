#include "engine/tree/tree_pull.h"

#include <fnmatch.h>

#include <algorithm>
#include <chrono>
#include <unordered_map>
#include <unordered_set>

#include "codec/checksum.h"
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

// Adds `r` to ranges kept in order, merging it with the last one it touches.
void add_range(std::vector<IndexRange>& ranges, IndexRange r) {
  if (!ranges.empty() && r.begin <= ranges.back().end) ranges.back().end = std::max(ranges.back().end, r.end);
  else ranges.push_back(r);
}

// Ranges in order of their first piece, overlapping or touching ones merged.
std::vector<IndexRange> merged(const std::vector<IndexRange>& sorted) {
  std::vector<IndexRange> out;
  for (const IndexRange& r : sorted) add_range(out, r);
  return out;
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
  std::uint64_t bytes = 0;

  // What makes a tree pull the same: the key's URL, the tree it describes
  // and the selection. Its tag names the temp files and the journal.
  std::string selection;
  for (const auto* globs : {&o.include, &o.exclude}) {
    for (const std::string& glob : *globs) selection += glob + '\0';
    selection += '\1';
  }
  const std::string identity = "sxengine tree pull journal 1 " + codec::sha256_hex(checked.url()) + " " + m.sha256_tree +
                               " " + std::to_string(m.size) + " " + codec::sha256_hex(selection);
  const std::string tag = o.resume ? codec::sha256_hex(identity).substr(0, 16) : std::string();
  auto output = TreeOutput::open(out, o.force, o.fsync, tag, identity);
  if (!output) return std::move(output).error();
  if (auto prepared = output->prepare(kept); !prepared) return std::move(prepared).error();

  // A duplicate (bytes an earlier file holds) is copied from that file when
  // it is pulled too, else written from the stream in its place.
  std::unordered_map<std::uint64_t, const codec::TreeEntry*> holder;  // offset → the file written with those bytes
  for (const codec::TreeEntry* e : kept)
    if (e->type == codec::EntryType::kFile && !e->duplicate && e->size > 0) holder.emplace(e->offset, e);
  std::vector<std::pair<const codec::TreeEntry*, const codec::TreeEntry*>> copies;  // (copy, from)
  for (const codec::TreeEntry* e : kept)
    if (e->type == codec::EntryType::kFile && e->duplicate)
      if (const auto [it, first] = holder.emplace(e->offset, e); !first) copies.emplace_back(e, it->second);

  // Files an interrupted run finished (re-read and matched) are not fetched again.
  std::vector<const codec::TreeEntry*> files;
  std::vector<IndexRange> ranges;
  std::uint64_t resumed = 0, selected_pieces = 0;
  std::vector<IndexRange> selected;
  for (const codec::TreeEntry* e : kept) {
    if (e->type != codec::EntryType::kFile) continue;
    const bool copied = e->duplicate && holder.at(e->offset) != e;
    if (e->size > 0) add_range(selected, pieces_of(m, e->offset, e->size));
    if (output->resumable() && output->resume_file(*e)) {
      ++resumed;
      if (copied) std::erase_if(copies, [e](const auto& c) { return c.first == e; });
      continue;
    }
    if (copied) continue;
    files.push_back(e);
    if (e->size == 0) continue;
    bytes += e->size;
    add_range(ranges, pieces_of(m, e->offset, e->size));
  }
  // The stream's order for the writer (a duplicate written in its original's place sorts there).
  std::stable_sort(files.begin(), files.end(),
                   [](const codec::TreeEntry* a, const codec::TreeEntry* b) { return a->offset < b->offset; });
  std::sort(ranges.begin(), ranges.end(), [](const IndexRange& a, const IndexRange& b) { return a.begin < b.begin; });
  ranges = merged(ranges);
  const auto started = std::chrono::steady_clock::now();
  std::uint64_t pieces = 0;
  for (const IndexRange& r : ranges) pieces += r.end - r.begin;
  std::sort(selected.begin(), selected.end(), [](const IndexRange& a, const IndexRange& b) { return a.begin < b.begin; });
  selected = merged(selected);
  for (const IndexRange& r : selected) selected_pieces += r.end - r.begin;
  const bool whole = selected_pieces == m.pieces.size();  // every piece: the tree's digest can be checked
  report(o.progress, [&](ProgressSink& p) { p.on_start("pull", bytes, pieces); });
  if (output->refused() > 0)
    report(o.progress, [&](ProgressSink& p) {
      p.on_note(std::to_string(output->refused()) +
                " file(s) the journal lists do not match their temp files; they are fetched again");
    });
  if (resumed > 0)
    report(o.progress, [&](ProgressSink& p) { p.on_resume("pull", selected_pieces - pieces, selected_pieces); });

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
  if (whole)
    digest.emplace(m, [&](std::uint64_t offset, std::span<std::byte> into) { return output->read_back(offset, into); });
  if (digest && resumed > 0) {  // the pieces not fetched again, read back from the resumed files
    std::vector<char> fetched(m.pieces.size(), 0);
    for (const IndexRange& r : ranges) std::fill(fetched.begin() + r.begin, fetched.begin() + r.end, 1);
    for (std::uint64_t i = 0; i < m.pieces.size(); ++i)
      if (!fetched[i])
        if (auto hashed = digest->written_earlier(m.pieces[i]); !hashed) return std::move(hashed).error();
  }
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
  if (!fetched) {
    // A failure another run can get past keeps what was written for it.
    Error error = std::move(fetched).error();
    if (output->resumable() && (error.code == Errc::kTransient || error.code == Errc::kCancelled)) {
      output->keep();
      error.message += "; run the same command again to resume (the files written are kept in " + output->dir() + ")";
    }
    return error;
  }
  // Empty files after the last piece (or a tree with no bytes at all).
  const codec::PieceEntry none{};
  if (auto rest = write_file_bytes(none, {}); !rest) return std::move(rest).error();
  if (next != files.size()) return make_error(Errc::kCorrupt, "the tree's pieces ended before its files did");
  for (const auto& [copy, from] : copies)
    if (auto copied = output->copy_file(*copy, *from); !copied) return std::move(copied).error();
  if (digest)
    if (auto good = digest->finish(); !good) return std::move(good).error();
  if (auto committed = output->commit(); !committed) return std::move(committed).error();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  report(o.progress, [&](ProgressSink& p) { p.on_finish(bytes, seconds, ctx.all_retries()); });
  return output->dir();
}

}  // namespace sx::engine
