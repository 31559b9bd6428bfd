// What lets a killed push continue: a journal in the user's state directory
// ($XDG_STATE_HOME/sxengine/push/ID.journal, mode 0600) named by what makes
// two pushes the same (the input's identity, the backend, every option that
// changes pieces, the passphrase's digest). It holds the content key (or
// passphrase salt) and one record per stored piece; it is removed when the
// push completes. A changed input has another identity, so it never resumes
// into the wrong key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "codec/manifest.h"
#include "engine/download_key.h"
#include "engine/input_file.h"
#include "engine/journal_file.h"
#include "engine/piece_plan.h"
#include "sx/options.h"

namespace sx::engine {

class PushJournal {
 public:
  // `fresh` is the key a new push would use; when a journal is resumed it is
  // replaced by the journal's. nullopt: this input cannot be resumed, or
  // options.resume is off (then earlier journals of this file are removed).
  static Result<std::optional<PushJournal>> open(const Options& options, const std::string& backend,
                                                 const std::string& name, const InputFile& input,
                                                 const PiecePlan& plan, DownloadKey& fresh);

  bool resumed() const { return file_.resumed(); }
  // Pieces already stored, by index.
  const std::unordered_map<std::uint64_t, codec::PieceEntry>& stored() const { return stored_; }
  Status record(const codec::PieceEntry& piece) { return file_.append(format(piece)); }
  void finish() { file_.remove(); }

 private:
  explicit PushJournal(JournalFile file) : file_(std::move(file)) {}
  static std::string format(const codec::PieceEntry& piece);

  JournalFile file_;
  std::unordered_map<std::uint64_t, codec::PieceEntry> stored_;
};

}  // namespace sx::engine
