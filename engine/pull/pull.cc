#include "engine/pull/pull.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "base/text.h"
#include "codec/checksum.h"
#include "engine/pull/downloader.h"
#include "engine/pull/file_digest.h"
#include "engine/pull/output_file.h"
#include "engine/pull/pull_journal.h"
#include "engine/pull/pull_parity.h"
#include "engine/pull/pull_stdout.h"

namespace sx::engine {

Result<std::string> pull(Context& ctx, net::Backend& backend, const CheckedManifest& checked,
                         const std::optional<codec::ContentKey>& content_key, const std::string& out) {
  const auto started = std::chrono::steady_clock::now();
  const codec::Manifest& manifest = checked.manifest();
  const std::string& url = checked.url();
  if (out == "-" && manifest.stripe_parity > 0)
    return pull_striped_to_stdout(ctx, backend, checked, content_key, started);
  if (out == "-") return pull_to_stdout(ctx, backend, checked, content_key, started);

  const std::string final_path = resolve_output_path(out, manifest.name);
  // What makes a pull the same: the key's URL and the file it describes.
  const std::string identity = "sxengine pull journal 2 " + text::to_hex(codec::sha256(std::as_bytes(std::span(url)))) +
                               " " + manifest.sha256 + manifest.sha256_tree + " " + std::to_string(manifest.size);
  const std::string tag = ctx.options.resume ? identity.substr(24, 16) : std::string();
  auto file = OutputFile::create(final_path, manifest.size, ctx.options.force, tag);
  if (!file) return std::move(file).error();
  report(ctx.options.progress, [&](ProgressSink& p) { p.on_start("pull", manifest.size, manifest.pieces.size()); });

  FileDigestCheck digest(manifest, [&](std::uint64_t offset, std::span<std::byte> bytes) {
    return file->read_at(bytes, offset);
  });
  auto journal = open_pull_journal(ctx, *file, identity, manifest);
  if (!journal) return std::move(journal).error();
  if (journal->refused > 0)
    report(ctx.options.progress, [&](ProgressSink& p) {
      p.on_note(std::to_string(journal->refused) + " piece(s) the journal lists do not match " + file->temp_path() +
                "; they are fetched again");
    });
  std::vector<IndexRange> missing = pieces_to_fetch(journal->done, manifest.pieces.size());
  const auto already = static_cast<std::uint64_t>(std::count(journal->done.begin(), journal->done.end(), 1));
  if (already > 0) {
    report(ctx.options.progress, [&](ProgressSink& p) { p.on_resume("pull", already, manifest.pieces.size()); });
    for (std::uint64_t i = 0; i < manifest.pieces.size(); ++i)
      if (journal->done[i])
        if (auto hashed = digest.written_earlier(manifest.pieces[i]); !hashed) return std::move(hashed).error();
  }
  const PieceSink write_piece = [&](const codec::PieceEntry& piece, std::span<const std::byte> payload) {
    if (auto written = file->write_at(payload, piece.offset); !written) return written;
    if (auto hashed = digest.landed(piece, payload); !hashed) return hashed;
    // After the bytes, though not necessarily durable before them: a record
    // is re-checked against the file before a later run trusts it.
    return journal->file ? journal->file->append(std::to_string(piece.index) + " " + codec::content_name(payload))
                         : Status{};
  };
  Status fetched_all;
  if (manifest.stripe_parity == 0) {
    Downloader downloader(ctx, backend, checked, content_key);
    fetched_all = downloader.fetch(missing, write_piece);
  } else {
    fetched_all = fetch_with_parity(ctx, backend, checked, content_key, missing, *file, write_piece);
  }
  if (!fetched_all) {
    // A failure another run can get past keeps what was written for it.
    Error error = std::move(fetched_all).error();
    if (journal->file && (error.code == Errc::kTransient || error.code == Errc::kCancelled)) {
      file->keep();
      error.message += "; run the same command again to resume (written pieces are kept in " + file->temp_path() + ")";
    }
    return error;
  }
  if (auto checked = digest.finish(); !checked) return std::move(checked).error();
  if (auto committed = file->commit(ctx.options.force, ctx.options.fsync); !committed) return std::move(committed).error();
  if (journal->file) journal->file->remove();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  report(ctx.options.progress, [&](ProgressSink& p) { p.on_finish(manifest.size, seconds, ctx.all_retries()); });
  return final_path;
}

}  // namespace sx::engine
