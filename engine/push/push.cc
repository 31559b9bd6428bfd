#include "engine/push/push.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <filesystem>

#include "base/text.h"
#include "codec/checksum.h"
#include "engine/core/download_key.h"
#include "engine/push/input_file.h"
#include "engine/ops/manifest_tree.h"
#include "engine/push/orphans.h"
#include "engine/core/payload_transform.h"
#include "engine/push/piece_plan.h"
#include "engine/push/resumable_push.h"
#include "engine/core/thread_pool.h"
#include "engine/push/uploader.h"

namespace sx::engine {
namespace {

std::string default_name(const std::string& path) {
  if (path == "-") return "stdin";
  return std::filesystem::path(path).filename().string();
}

}  // namespace

Result<Pushed> push(Context& ctx, net::Backend& backend, const std::string& path, const std::string& name) {
  const Options& o = ctx.options;
  auto plan = plan_pieces(o, backend.limits(), ctx.limits, backend.describe());
  if (!plan) return std::move(plan).error();
  auto input = InputFile::open(path, ctx.cancel);
  if (!input) return std::move(input).error();

  const auto started = std::chrono::steady_clock::now();
  const std::optional<std::uint64_t> total = input->expected_size();
  report(o.progress, [&](ProgressSink& p) {
    p.on_start("push", total.value_or(0), total ? (*total + plan->piece_bytes - 1) / plan->piece_bytes : 0);
  });
  DownloadKey download = new_download_key(o);
  auto resumable = ResumablePush::open(ctx, backend.describe(), name.empty() ? default_name(path) : name,
                                       input->identity(), *plan, download);  // a resumed journal supplies its key
  if (!resumable) return std::move(resumable).error();
  auto content_key = resumable->content_key(backend, *plan, download,
                                            total ? (*total + plan->piece_bytes - 1) / plan->piece_bytes : 0);
  if (!content_key) return std::move(content_key).error();

  TransformPool transforms(static_cast<std::size_t>(ctx.pool.size()), *content_key);
  Uploader uploader(ctx, backend, plan->geometry, transforms, o.compress);

  // What vouches for the file: the AEAD tags when encrypted, else a SHA-256
  // tree hashed on the workers; the whole file's SHA-256 only when asked for
  // (sequential), always over the very bytes the pieces are made from.
  std::vector<codec::Sha256Digest> piece_digests;
  PieceKind data{0, 0, 0, true, o.encrypt ? nullptr : &piece_digests};
  codec::Sha256 file_hash;
  InputSource source(*input, plan->piece_bytes);
  std::function<void(std::span<const std::byte>)> observe;
  if (o.record_sha256) observe = [&](std::span<const std::byte> bytes) { file_hash.update(bytes); };
  auto pieces = uploader.run(source, data, observe, resumable->resume_state());
  // Pieces stored before a failure are kept for a resume, or reported, never silently left behind.
  if (!pieces) return resumable->failed(std::move(pieces).error(), uploader, backend);
  if (auto unchanged = input->check_unchanged(); !unchanged)
    return resumable->failed(std::move(unchanged).error(), uploader, backend, false);

  codec::Manifest manifest;
  manifest.name = name.empty() ? default_name(path) : name;
  manifest.digest = std::string(o.encrypt ? codec::kDigestAead : codec::kDigestSha256Tree);
  if (!o.encrypt) manifest.sha256_tree = text::to_hex(codec::sha256_tree(piece_digests));
  if (o.record_sha256) manifest.sha256 = text::to_hex(file_hash.finish());
  manifest.piece_size = plan->piece_bytes;
  manifest.width = plan->geometry.width;
  manifest.height = plan->geometry.height;
  manifest.encryption = o.encrypt ? "aes-256-gcm" : "none";
  for (const codec::PieceEntry& piece : *pieces) manifest.size += piece.size;
  manifest.pieces = std::move(*pieces);
  auto root = store_manifest_tree(uploader, manifest);
  if (!root) return resumable->failed(std::move(root).error(), uploader, backend);
  download.url = std::move(*root);
  resumable->finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  report(o.progress, [&](ProgressSink& p) { p.on_finish(manifest.size, seconds, ctx.all_retries()); });
  return Pushed{format_download_key(download), manifest.name, manifest.size, 0};
}

}  // namespace sx::engine
