#include "engine/pull/pull_stdout.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "engine/pull/downloader.h"
#include "engine/pull/file_digest.h"
#include "engine/stripe/host_guard.h"
#include "engine/stripe/stripe_rebuild.h"

namespace sx::engine {
namespace {

Status write_all(int fd, std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(Errc::kIo, std::string("cannot write to standard output: ") + std::strerror(errno));
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return {};
}

// The end of a pull to stdout: the whole-file digest, then the report.
Result<std::string> finish_stdout(Context& ctx, FileDigestCheck& digest, const codec::Manifest& manifest,
                                  std::chrono::steady_clock::time_point started) {
  if (auto checked = digest.finish(); !checked) {
    Error e = std::move(checked).error();
    e.message += " (after streaming: what went to stdout is not the file)";
    return e;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  report(ctx.options.progress, [&](ProgressSink& p) { p.on_finish(manifest.size, seconds, ctx.all_retries()); });
  return std::string("-");
}

}  // namespace

// `pull KEY -`: the file in order on stdout, the window holding pieces that
// came early. The digest is checked at the end: a mismatch fails the pull
// after the bytes went out (as curl does), so scripts must check the status.
Result<std::string> pull_to_stdout(Context& ctx, net::Backend& backend, const CheckedManifest& checked,
                                   const std::optional<codec::ContentKey>& content_key,
                                   std::chrono::steady_clock::time_point started) {
  const codec::Manifest& manifest = checked.manifest();
  report(ctx.options.progress, [&](ProgressSink& p) { p.on_start("pull", manifest.size, manifest.pieces.size()); });
  FileDigestCheck digest(manifest, {});  // in order: nothing is ever read back
  Downloader downloader(ctx, backend, checked, content_key);
  const IndexRange all{0, manifest.pieces.size()};
  FetchOptions in_order;
  in_order.in_order = true;
  Status streamed = downloader.fetch({&all, 1}, [&](const codec::PieceEntry& piece, std::span<const std::byte> payload) {
    if (auto checked = digest.landed(piece, payload); !checked) return checked;
    return write_all(STDOUT_FILENO, payload);
  }, in_order);
  if (!streamed) return std::move(streamed).error();
  return finish_stdout(ctx, digest, manifest, started);
}

// `pull KEY -` of a striped key with parity: a group of stripes at a time is
// fetched into memory (any order), its lost pieces rebuilt from the group's
// own bytes and parity, and the group written out in order. Memory: about
// --parallel pieces, as the window's.
Result<std::string> pull_striped_to_stdout(Context& ctx, net::Backend& backend, const CheckedManifest& checked,
                                           const std::optional<codec::ContentKey>& content_key,
                                           std::chrono::steady_clock::time_point started) {
  const codec::Manifest& manifest = checked.manifest();
  report(ctx.options.progress, [&](ProgressSink& p) { p.on_start("pull", manifest.size, manifest.pieces.size()); });
  FileDigestCheck digest(manifest, {});
  HostGuard guard(backend);
  Downloader downloader(ctx, guard, checked, content_key);
  const std::uint64_t d = static_cast<std::uint64_t>(manifest.stripe_data);
  const std::uint64_t group = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::max(1, ctx.options.parallel)) / d) * d;
  const std::size_t piece_bytes = manifest.piece_size;
  auto held = std::make_unique_for_overwrite<std::byte[]>(group * piece_bytes);
  std::vector<char> have(group);
  if (ctx.limit_get_retries) ctx.limit_get_retries(0);  // as pull to a file: a loss costs one parity piece
  for (std::uint64_t begin = 0; begin < manifest.pieces.size(); begin += group) {
    const std::uint64_t end = std::min<std::uint64_t>(begin + group, manifest.pieces.size());
    std::fill(have.begin(), have.end(), 0);
    LostPieces lost_pieces;
    FetchOptions options;
    options.on_failure = lost_pieces.recorder();
    const auto keep = [&](const codec::PieceEntry& piece, std::span<const std::byte> payload) {
      std::memcpy(held.get() + (piece.index - begin) * piece_bytes, payload.data(), payload.size());
      have[piece.index - begin] = 1;
      return Status{};
    };
    const IndexRange range{begin, end};
    // Retries stay off throughout (changing them reopens the backends): a
    // lost piece is rebuilt, and what a stripe cannot lose is asked for again.
    if (auto fetched = downloader.fetch({&range, 1}, keep, options); !fetched) return std::move(fetched).error();
    const ReadData read_held = [&](const codec::PieceEntry& piece, std::span<std::byte> out) {
      std::memcpy(out.data(), held.get() + (piece.index - begin) * piece_bytes, out.size());
      return Status{};
    };
    if (auto rebuilt = rebuild_data_pieces(ctx, guard, checked, content_key, lost_pieces.take(), read_held, keep, &backend);
        !rebuilt)
      return std::move(rebuilt).error();
    for (std::uint64_t i = begin; i < end; ++i) {
      const codec::PieceEntry& piece = manifest.pieces[i];
      const std::span<const std::byte> payload(held.get() + (i - begin) * piece_bytes, piece.size);
      if (auto checked = digest.landed(piece, payload); !checked) return std::move(checked).error();
      if (auto written = write_all(STDOUT_FILENO, payload); !written) return std::move(written).error();
    }
  }
  return finish_stdout(ctx, digest, manifest, started);
}

}  // namespace sx::engine
