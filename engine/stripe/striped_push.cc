#include "engine/stripe/striped_push.h"

#include <chrono>
#include <filesystem>

#include "base/text.h"
#include "codec/checksum.h"
#include "codec/erasure_code.h"
#include "engine/core/download_key.h"
#include "engine/push/input_file.h"
#include "engine/ops/manifest_tree.h"
#include "engine/push/orphans.h"
#include "engine/core/payload_transform.h"
#include "engine/push/piece_plan.h"
#include "engine/stripe/stripe_source.h"
#include "engine/core/thread_pool.h"
#include "engine/push/uploader.h"

namespace sx::engine {
namespace {

// What every backend accepts: the smallest of each limit (0 = none).
net::ObjectLimits common_limits(std::span<net::Backend* const> backends) {
  net::ObjectLimits all;
  const auto tighter = [](auto current, auto limit) { return limit && (!current || limit < current) ? limit : current; };
  for (const net::Backend* b : backends) {
    const net::ObjectLimits l = b->limits();
    all.max_bytes = tighter(all.max_bytes, l.max_bytes);
    all.max_width = tighter(all.max_width, l.max_width);
    all.max_height = tighter(all.max_height, l.max_height);
  }
  return all;
}

// Manifest copy c numbers its pieces from c·2^32, so no two copies (whose
// index documents differ: they list each copy's own URLs) share a nonce.
constexpr int kCopyIndexShift = 32;

}  // namespace

Result<Pushed> push_striped(Context& ctx, std::span<net::Backend* const> backends, int parity,
                            const std::string& path, const std::string& name) {
  const Options& o = ctx.options;
  const int count = static_cast<int>(backends.size());
  if (count < 2 || count > codec::kMaxBackends)
    return make_error(Errc::kInvalidArgument, "a striped push takes 2 to " + std::to_string(codec::kMaxBackends) +
                                                  " backends, not " + std::to_string(count));
  if (parity < 0 || parity >= count)
    return make_error(Errc::kInvalidArgument, "--parity " + std::to_string(parity) + " needs more than " +
                                                  std::to_string(parity) + " backends (got " +
                                                  std::to_string(count) + ")");
  const StripeShape shape{count - parity, parity};
  std::optional<codec::ErasureCode> code;
  if (parity > 0) {
    auto made = codec::ErasureCode::create(shape.data, shape.parity);
    if (!made) return std::move(made).error();
    code.emplace(std::move(*made));
  }
  auto plan = plan_pieces(o, common_limits(backends), ctx.limits, backends[0]->describe());
  if (!plan) return std::move(plan).error();
  auto input = InputFile::open(path, ctx.cancel);
  if (!input) return std::move(input).error();

  const auto started = std::chrono::steady_clock::now();
  const std::optional<std::uint64_t> total = input->expected_size();
  report(o.progress, [&](ProgressSink& p) {
    p.on_start("push", total.value_or(0), total ? (*total + plan->piece_bytes - 1) / plan->piece_bytes : 0);
  });
  DownloadKey download = new_download_key(o);
  auto content_key = resolve_content_key(download, o.passphrase);
  if (!content_key) return std::move(content_key).error();

  TransformPool transforms(static_cast<std::size_t>(ctx.pool.size()), *content_key);
  Uploader uploader(ctx, *backends[0], plan->geometry, transforms, o.compress);
  std::vector<codec::Sha256Digest> piece_digests;
  codec::Sha256 file_hash;
  InputSource file_source(*input, plan->piece_bytes);
  StripeSource source(file_source, shape, code ? &*code : nullptr, plan->piece_bytes);
  PieceKind kind{0, 0, 0, true, o.encrypt ? nullptr : &piece_digests};
  kind.classify = [&](std::uint64_t run_index) {
    const StripeSource::Yielded& y = source.yielded()[run_index];
    return PieceClass{static_cast<std::uint8_t>(y.parity ? codec::kFlagParity : 0), y.parity ? 2u : 0u, y.index,
                      backends[y.slot], !y.parity};
  };
  std::function<void(std::span<const std::byte>)> observe;
  if (o.record_sha256) observe = [&](std::span<const std::byte> bytes) { file_hash.update(bytes); };
  auto stored = uploader.run(source, kind, observe);
  if (!stored) return with_orphans(std::move(stored).error(), uploader, *backends[0]);
  if (auto unchanged = input->check_unchanged(); !unchanged)
    return with_orphans(std::move(unchanged).error(), uploader, *backends[0]);

  codec::Manifest manifest;
  manifest.name = name.empty() ? (path == "-" ? std::string("stdin") : std::filesystem::path(path).filename().string())
                               : name;
  manifest.digest = std::string(o.encrypt ? codec::kDigestAead : codec::kDigestSha256Tree);
  if (!o.encrypt) manifest.sha256_tree = text::to_hex(codec::sha256_tree(piece_digests));
  if (o.record_sha256) manifest.sha256 = text::to_hex(file_hash.finish());
  manifest.piece_size = plan->piece_bytes;
  manifest.width = plan->geometry.width;
  manifest.height = plan->geometry.height;
  manifest.encryption = o.encrypt ? "aes-256-gcm" : "none";
  manifest.stripe_data = shape.data;
  manifest.stripe_parity = shape.parity;
  // The run's entries in the order yielded: data pieces get their offsets
  // back (the run counted parity bytes too), parity pieces none.
  for (std::size_t r = 0; r < stored->size(); ++r) {
    codec::PieceEntry entry = std::move((*stored)[r]);
    const StripeSource::Yielded& y = source.yielded()[r];
    entry.index = y.index;
    if (y.parity) {
      entry.offset = 0;
      manifest.parity_pieces.push_back(std::move(entry));
    } else {
      entry.offset = manifest.size;
      manifest.size += entry.size;
      manifest.pieces.push_back(std::move(entry));
    }
  }
  // Every backend gets the whole manifest tree: any of them leads to the file.
  for (int c = 0; c < count; ++c) {
    Uploader copy(ctx, *backends[c], plan->geometry, transforms, o.compress);
    auto root = store_manifest_tree(copy, manifest, std::uint64_t(c) << kCopyIndexShift);
    if (!root) return with_orphans(std::move(root).error(), uploader, *backends[0]);
    if (c == 0) download.url = std::move(*root);
    else download.alternates.push_back(std::move(*root));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  report(o.progress, [&](ProgressSink& p) { p.on_finish(manifest.size, seconds, ctx.all_retries()); });
  return Pushed{format_download_key(download), manifest.name, manifest.size, 0};
}

}  // namespace sx::engine
