// What lets a killed push continue: a journal in the user's state directory
// ($XDG_STATE_HOME/sxengine/push/ID.journal, mode 0600) named by what makes
// two pushes the same (the input's identity, the backend, every option that
// changes pieces, the passphrase's digest). It holds the content key (or
// passphrase salt) and one record per stored piece; it is removed when the
// push completes. A changed input has another identity, so it never resumes
// into the wrong key; an edit the identity cannot see (same size and mtime)
// is caught piece by piece, since each record keeps the digest of the
// piece's plaintext (engine/core/resume_check.h). A journal that cannot be kept
// (another run holds it, the state directory is not writable) makes a push
// that cannot be resumed, said once, never a failed push.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

#include "codec/manifest.h"
#include "engine/core/download_key.h"
#include "engine/core/journal_file.h"
#include "engine/push/piece_plan.h"
#include "engine/core/resume_check.h"
#include "sx/options.h"

namespace sx::engine {

class PushJournal {
 public:
  // `fresh` is the key a new push would use; when a journal is resumed it is
  // replaced by the journal's. nullopt: this input cannot be resumed, or
  // options.resume is off (then earlier journals of this file are removed).
  // `note` gets the reason when no journal can be kept.
  // `source`: what is pushed, named and dated (InputFile::identity, a tree's
  // digest); its first line is where it comes from. nullopt: not resumable.
  static Result<std::optional<PushJournal>> open(const Options& options, const std::string& backend,
                                                 const std::string& name, const std::optional<std::string>& source,
                                                 const PiecePlan& plan, DownloadKey& fresh,
                                                 const std::function<void(std::string)>& note);

  bool resumed() const { return file_.resumed(); }
  // Pieces an earlier run stored, by index: evidence to re-check, not proof.
  const std::unordered_map<std::uint64_t, ResumedPiece>& stored() const { return stored_; }
  // A resumed piece that failed its re-check: it is stored again.
  void forget(std::uint64_t index) { stored_.erase(index); }
  Status record(const ResumedPiece& piece) { return file_.append(format(piece)); }
  void finish() { file_.remove(); }

 private:
  explicit PushJournal(JournalFile file) : file_(std::move(file)) {}
  static std::string format(const ResumedPiece& piece);

  JournalFile file_;
  std::unordered_map<std::uint64_t, ResumedPiece> stored_;
};

}  // namespace sx::engine
