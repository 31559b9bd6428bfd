#include "engine/tree/tree_push.h"

#include <chrono>
#include <filesystem>

#include "base/text.h"
#include "codec/checksum.h"
#include "engine/core/download_key.h"
#include "engine/core/payload_transform.h"
#include "engine/core/thread_pool.h"
#include "engine/ops/manifest_tree.h"
#include "engine/push/piece_plan.h"
#include "engine/push/resumable_push.h"
#include "engine/push/uploader.h"
#include "engine/tree/tree_dedup.h"
#include "engine/tree/tree_source.h"
#include "engine/tree/tree_walk.h"

namespace sx::engine {
namespace {

// What info and the catalogue show: the one top-level name, or the first
// and how many more.
std::string tree_name(const std::vector<codec::TreeEntry>& entries) {
  std::string first;
  std::size_t tops = 0;
  for (const codec::TreeEntry& e : entries)
    if (e.path.find('/') == std::string::npos && tops++ == 0) first = e.path;
  return tops <= 1 ? first : first + " and " + std::to_string(tops - 1) + " more";
}

void hash_field(codec::Sha256& hash, std::string_view field) {
  const std::string length = std::to_string(field.size()) + ":";  // length-prefixed: no two lists hash alike
  hash.update(std::as_bytes(std::span(length)));
  hash.update(std::as_bytes(std::span(field)));
}

// What makes two tree pushes the same, for the push journal: its first line
// where the tree comes from (the PATHs, absolute), then a digest of every
// entry as walked (path, type, mode, mtime, size, target) and of where each
// file is read. A file added, removed, touched or resized is another tree
// (its push starts over); an edit that keeps size and mtime is caught piece
// by piece, as for a file (engine/core/resume_check.h).
std::string tree_identity(const std::vector<std::string>& paths, const WalkedTree& tree) {
  codec::Sha256 from;
  for (const std::string& path : paths) {
    std::error_code ec;
    hash_field(from, std::filesystem::absolute(path, ec).lexically_normal().string());
  }
  codec::Sha256 walked;
  for (const codec::TreeEntry& e : tree.entries) {
    hash_field(walked, e.path);
    hash_field(walked, std::to_string(static_cast<int>(e.type)) + " " + std::to_string(e.mode) + " " +
                           std::to_string(e.mtime_ns) + " " + std::to_string(e.size) + " " + std::to_string(e.offset));
    hash_field(walked, e.target);
  }
  for (const WalkedTree::Source& source : tree.sources) hash_field(walked, source.path);
  return "tree " + text::to_hex(from.finish()) + "\n" + std::to_string(tree.entries.size()) + " " +
         std::to_string(tree.stream_bytes) + "\n" + text::to_hex(walked.finish());
}

}  // namespace

Result<Pushed> push_tree(Context& ctx, net::Backend& backend, const std::vector<std::string>& paths,
                         const std::string& name) {
  const Options& o = ctx.options;
  auto plan = plan_pieces(o, backend.limits(), ctx.limits, backend.describe());
  if (!plan) return std::move(plan).error();
  const auto note = [&](const std::string& text) { report(o.progress, [&](ProgressSink& p) { p.on_note(text); }); };
  WalkOptions walk_options;
  walk_options.follow_symlinks = o.follow_symlinks;
  walk_options.note = note;
  auto tree = walk_tree(paths, walk_options, ctx.cancel);
  if (!tree) return std::move(tree).error();
  if (tree->entries.size() > ctx.manifest_limits.max_tree_entries)
    return make_error(Errc::kLimit, "the tree has " + std::to_string(tree->entries.size()) +
                                        " entries, more than a tree key holds (" +
                                        std::to_string(ctx.manifest_limits.max_tree_entries) + ")");

  auto saved = deduplicate(*tree, o.follow_symlinks, ctx.cancel);
  if (!saved) return std::move(saved).error();
  if (*saved > 0)
    note(std::to_string(tree->duplicate_sources.size()) + " file(s) identical to others are stored once (" +
         std::to_string(*saved) + " bytes not sent)");

  const auto started = std::chrono::steady_clock::now();
  const std::uint64_t total = tree->stream_bytes;
  report(o.progress, [&](ProgressSink& p) {
    p.on_start("push", total, (total + plan->piece_bytes - 1) / plan->piece_bytes);
  });
  const std::string manifest_name = name.empty() ? tree_name(tree->entries) : name;
  DownloadKey download = new_download_key(o);
  auto resumable = ResumablePush::open(ctx, backend.describe(), manifest_name, tree_identity(paths, *tree), *plan,
                                       download);  // a resumed journal supplies its key
  if (!resumable) return std::move(resumable).error();
  auto content_key = resumable->content_key(backend, *plan, download, (total + plan->piece_bytes - 1) / plan->piece_bytes);
  if (!content_key) return std::move(content_key).error();

  TransformPool transforms(static_cast<std::size_t>(ctx.pool.size()), *content_key);
  Uploader uploader(ctx, backend, plan->geometry, transforms, o.compress);
  std::vector<codec::Sha256Digest> piece_digests;
  PieceKind data{0, 0, 0, true, o.encrypt ? nullptr : &piece_digests};
  std::vector<const codec::TreeEntry*> file_entries;  // stream order, as the sources
  std::uint64_t files = 0;  // duplicates too: what info counts
  for (const codec::TreeEntry& e : tree->entries) {
    if (e.type != codec::EntryType::kFile) continue;
    ++files;
    if (!e.duplicate) file_entries.push_back(&e);
  }
  const auto on_read = [&](std::size_t i) {
    report(o.progress, [&](ProgressSink& p) { p.on_file(file_entries[i]->path, file_entries[i]->size, i + 1, file_entries.size()); });
  };
  TreeSource source(tree->sources, plan->piece_bytes, o.follow_symlinks, ctx.cancel, on_read);
  auto pieces = uploader.run(source, data, {}, resumable->resume_state());
  if (!pieces) return resumable->failed(std::move(pieces).error(), uploader, backend);

  if (auto unchanged = check_duplicates_unchanged(*tree, o.follow_symlinks); !unchanged)
    return resumable->failed(std::move(unchanged).error(), uploader, backend, false);

  codec::Manifest manifest;
  manifest.name = manifest_name;
  manifest.digest = std::string(o.encrypt ? codec::kDigestAead : codec::kDigestSha256Tree);
  if (!o.encrypt) manifest.sha256_tree = text::to_hex(codec::sha256_tree(piece_digests));
  manifest.piece_size = plan->piece_bytes;
  manifest.width = plan->geometry.width;
  manifest.height = plan->geometry.height;
  manifest.encryption = o.encrypt ? "aes-256-gcm" : "none";
  for (const codec::PieceEntry& piece : *pieces) manifest.size += piece.size;
  if (manifest.size != total)
    return resumable->failed(Error{Errc::kIo, "the tree's files changed while they were pushed"}, uploader, backend, false);
  manifest.pieces = std::move(*pieces);
  manifest.tree = std::move(tree->entries);
  auto root = store_manifest_tree(uploader, manifest);
  if (!root) return resumable->failed(std::move(root).error(), uploader, backend);
  download.url = std::move(*root);
  resumable->finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  report(o.progress, [&](ProgressSink& p) { p.on_finish(manifest.size, seconds, ctx.all_retries()); });
  return Pushed{format_download_key(download), manifest.name, manifest.size, files};
}

}  // namespace sx::engine
