// A push and its journal (engine/push/push_journal.h), by one set of rules
// for a file and for a tree: the journal opened for what is pushed (its key
// replaces a fresh one), every piece it lists re-checked on the backend
// before it counts, a record per stored piece, and on failure the journal
// kept for a resume (or dropped, with the orphans listed, when resuming
// could not help).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "codec/piece_crypto.h"
#include "engine/core/context.h"
#include "engine/core/download_key.h"
#include "engine/push/piece_plan.h"
#include "engine/push/push_journal.h"
#include "engine/push/uploader.h"
#include "net/backend.h"
#include "sx/error.h"

namespace sx::engine {

class ResumablePush {
 public:
  // `identity`: what makes two pushes the same (InputFile::identity, a
  // tree's digest); nullopt when this input cannot be resumed.
  // A resumed journal replaces `download`'s key with its own.
  static Result<ResumablePush> open(Context& ctx, const std::string& backend_name, const std::string& name,
                                    const std::optional<std::string>& identity, const PiecePlan& plan,
                                    DownloadKey& download);

  // The content key of `download` (as the journal left it), then the
  // journal's pieces fetched and opened on `backend` (those that are not
  // there as stored are stored again) and on_resume reported when
  // something was resumed.
  Result<std::optional<codec::ContentKey>> content_key(net::Backend& backend, const PiecePlan& plan,
                                                       const DownloadKey& download, std::uint64_t total_pieces);

  // For Uploader::run: the pieces to skip when their bytes still match, and
  // a record appended for each piece stored. Refers to this object.
  ResumeState resume_state();

  // What a failed push says: with the journal kept, how to resume; else
  // the orphans the uploader left. `resumable` false (the input changed):
  // the journal goes.
  Error failed(Error error, const Uploader& uploader, const net::Backend& backend, bool resumable = true);

  // The key is made: the journal goes.
  void finish();

 private:
  explicit ResumablePush(Context& ctx) : ctx_(&ctx) {}
  void note(const std::string& text) const;
  Status recheck(net::Backend& backend, const PiecePlan& plan, const std::optional<codec::ContentKey>& content_key,
                 std::uint64_t total_pieces);

  Context* ctx_;
  std::optional<PushJournal> journal_;
};

}  // namespace sx::engine
