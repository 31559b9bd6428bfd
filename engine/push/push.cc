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
#include "engine/push/push_journal.h"
#include "engine/core/resume_check.h"
#include "engine/core/thread_pool.h"
#include "engine/push/uploader.h"

namespace sx::engine {
namespace {

std::string default_name(const std::string& path) {
  if (path == "-") return "stdin";
  return std::filesystem::path(path).filename().string();
}

// The content key: the random one, or derived from the passphrase and salt.
Result<std::optional<codec::ContentKey>> content_key_of(const DownloadKey& download, const std::string& passphrase) {
  if (download.key) return std::optional(*download.key);
  if (!download.salt) return std::optional<codec::ContentKey>{};
  auto derived = codec::derive_key(passphrase, *download.salt);
  if (!derived) return std::move(derived).error();
  return std::optional(*derived);
}

// The pieces a resumed journal lists must be on the backend as they were
// stored (fetched and opened as pull would): the ones that are not (deleted,
// replaced, damaged) are stored again.
Status recheck_stored_pieces(Context& ctx, net::Backend& backend, PushJournal& journal, const PiecePlan& plan,
                             const std::optional<codec::ContentKey>& content_key) {
  std::vector<ResumedPiece> pieces;
  pieces.reserve(journal.stored().size());
  for (const auto& [index, piece] : journal.stored()) pieces.push_back(piece);
  std::sort(pieces.begin(), pieces.end(),
            [](const ResumedPiece& a, const ResumedPiece& b) { return a.entry.index < b.entry.index; });
  auto good = verify_stored_pieces(ctx, backend, pieces, plan.geometry, plan.piece_bytes, content_key);
  if (!good) return std::move(good).error();
  std::uint64_t gone = 0;
  for (std::size_t i = 0; i < pieces.size(); ++i)
    if (!(*good)[i]) ++gone, journal.forget(pieces[i].entry.index);
  if (gone > 0)
    report(ctx.options.progress, [&](ProgressSink& p) {
      p.on_note(std::to_string(gone) + " piece(s) the push journal lists are not on " + backend.describe() +
                " as they were stored; they are stored again");
    });
  return {};
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
  const auto note = [&](const std::string& text) { report(o.progress, [&](ProgressSink& p) { p.on_note(text); }); };
  std::optional<PushJournal> journal;
  {
    auto opened = PushJournal::open(o, backend.describe(), name.empty() ? default_name(path) : name, *input, *plan,
                                    download, note);  // a resumed journal supplies its key
    if (!opened) return std::move(opened).error();
    journal = std::move(*opened);
  }
  auto content_key = content_key_of(download, o.passphrase);
  if (!content_key) return std::move(content_key).error();
  if (journal && journal->resumed()) {
    if (auto checked = recheck_stored_pieces(ctx, backend, *journal, *plan, *content_key); !checked)
      return std::move(checked).error();
    report(o.progress, [&](ProgressSink& p) {
      p.on_resume("push", journal->stored().size(), total ? (*total + plan->piece_bytes - 1) / plan->piece_bytes : 0);
    });
  }

  TransformPool transforms(static_cast<std::size_t>(ctx.pool.size()), *content_key);
  Uploader uploader(ctx, backend, plan->geometry, transforms, o.compress);
  // Pieces stored before a failure are kept for a resume, or reported, never silently left behind.
  const auto failed = [&](Error error) {
    const bool nothing_stored = uploader.stored_keys().empty() && (!journal || journal->stored().empty());
    if (journal && nothing_stored) journal->finish();  // nothing to resume: no journal left behind
    if (journal && !nothing_stored && error.code != Errc::kCorrupt) {
      error.message += "; run the same command again to resume (stored pieces are not sent twice)";
      return error;
    }
    if (journal && !nothing_stored) journal->finish();  // the journal does not fit the file: nothing to resume
    return with_orphans(std::move(error), uploader, backend);
  };

  // What vouches for the file: the AEAD tags when encrypted, else a SHA-256
  // tree hashed on the workers; the whole file's SHA-256 only when asked for
  // (sequential), always over the very bytes the pieces are made from.
  std::vector<codec::Sha256Digest> piece_digests;
  PieceKind data{0, 0, 0, true, o.encrypt ? nullptr : &piece_digests};
  codec::Sha256 file_hash;
  InputSource source(*input, plan->piece_bytes);
  ResumeState resume;
  if (journal) {
    resume.stored = &journal->stored();
    // A record that cannot be written (a full disk) costs the resume of
    // that piece, never the push: said once.
    resume.on_stored = [&, said = std::make_shared<std::once_flag>()](const ResumedPiece& piece) {
      if (auto recorded = journal->record(piece); !recorded)
        std::call_once(*said, [&] { note(recorded.error().message + "; stored pieces may be sent again if this push is resumed"); });
      return Status{};
    };
  }
  std::function<void(std::span<const std::byte>)> observe;
  if (o.record_sha256) observe = [&](std::span<const std::byte> bytes) { file_hash.update(bytes); };
  auto pieces = uploader.run(source, data, observe, resume);
  if (!pieces) return failed(std::move(pieces).error());
  if (auto unchanged = input->check_unchanged(); !unchanged) {
    if (journal) journal->finish();
    return with_orphans(std::move(unchanged).error(), uploader, backend);
  }

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
  if (!root) return failed(std::move(root).error());
  download.url = std::move(*root);
  if (journal) journal->finish();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  report(o.progress, [&](ProgressSink& p) { p.on_finish(manifest.size, seconds, ctx.all_retries()); });
  return Pushed{format_download_key(download), manifest.name, manifest.size, 0};
}

}  // namespace sx::engine
