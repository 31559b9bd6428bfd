#include "engine/push/resumable_push.h"

#include <algorithm>
#include <memory>
#include <mutex>

#include "engine/core/resume_check.h"
#include "engine/push/orphans.h"

namespace sx::engine {

Result<ResumablePush> ResumablePush::open(Context& ctx, const std::string& backend_name, const std::string& name,
                                          const std::optional<std::string>& identity, const PiecePlan& plan,
                                          DownloadKey& download) {
  ResumablePush push(ctx);
  auto opened = PushJournal::open(ctx.options, backend_name, name, identity, plan, download,
                                  [&](const std::string& text) { push.note(text); });
  if (!opened) return std::move(opened).error();
  push.journal_ = std::move(*opened);
  return push;
}

void ResumablePush::note(const std::string& text) const {
  report(ctx_->options.progress, [&](ProgressSink& p) { p.on_note(text); });
}

Result<std::optional<codec::ContentKey>> ResumablePush::content_key(net::Backend& backend, const PiecePlan& plan,
                                                                    const DownloadKey& download,
                                                                    std::uint64_t total_pieces) {
  auto key = resolve_content_key(download, ctx_->options.passphrase);
  if (!key) return std::move(key).error();
  if (auto checked = recheck(backend, plan, *key, total_pieces); !checked) return std::move(checked).error();
  return key;
}

Status ResumablePush::recheck(net::Backend& backend, const PiecePlan& plan,
                              const std::optional<codec::ContentKey>& content_key, std::uint64_t total_pieces) {
  if (!journal_ || !journal_->resumed()) return {};
  std::vector<ResumedPiece> pieces;
  pieces.reserve(journal_->stored().size());
  for (const auto& [index, piece] : journal_->stored()) pieces.push_back(piece);
  std::sort(pieces.begin(), pieces.end(),
            [](const ResumedPiece& a, const ResumedPiece& b) { return a.entry.index < b.entry.index; });
  auto good = verify_stored_pieces(*ctx_, backend, pieces, plan.geometry, plan.piece_bytes, content_key);
  if (!good) return std::move(good).error();
  std::uint64_t gone = 0;
  for (std::size_t i = 0; i < pieces.size(); ++i)
    if (!(*good)[i]) ++gone, journal_->forget(pieces[i].entry.index);
  if (gone > 0)
    note(std::to_string(gone) + " piece(s) the push journal lists are not on " + backend.describe() +
         " as they were stored; they are stored again");
  report(ctx_->options.progress,
         [&](ProgressSink& p) { p.on_resume("push", journal_->stored().size(), total_pieces); });
  return {};
}

ResumeState ResumablePush::resume_state() {
  ResumeState resume;
  if (!journal_) return resume;
  resume.stored = &journal_->stored();
  // A record that cannot be written (a full disk) costs the resume of that
  // piece, never the push: said once.
  resume.on_stored = [this, said = std::make_shared<std::once_flag>()](const ResumedPiece& piece) {
    if (auto recorded = journal_->record(piece); !recorded)
      std::call_once(*said, [&] { note(recorded.error().message + "; stored pieces may be sent again if this push is resumed"); });
    return Status{};
  };
  return resume;
}

Error ResumablePush::failed(Error error, const Uploader& uploader, const net::Backend& backend, bool resumable) {
  const bool nothing_stored = uploader.stored_keys().empty() && (!journal_ || journal_->stored().empty());
  // kCorrupt: the journal does not fit the input; nothing stored: nothing to resume.
  if (journal_ && resumable && !nothing_stored && error.code != Errc::kCorrupt) {
    error.message += "; run the same command again to resume (stored pieces are not sent twice)";
    return error;
  }
  finish();
  return with_orphans(std::move(error), uploader, backend);
}

void ResumablePush::finish() {
  if (journal_) journal_->finish();
}

}  // namespace sx::engine
