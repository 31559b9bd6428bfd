// The pull journal beside a resumable temp file: one record "INDEX DIGEST"
// per piece written, DIGEST the XXH3-128 of its plaintext. Records count
// only when the temp file itself was there to resume, and then only for
// pieces whose bytes read back from it match (resume_check.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "codec/manifest.h"
#include "engine/core/context.h"
#include "engine/core/journal_file.h"
#include "engine/pull/downloader.h"
#include "engine/pull/output_file.h"
#include "sx/error.h"

namespace sx::engine {

struct PullJournal {
  std::optional<JournalFile> file;  // none when resuming is off
  std::vector<char> done;           // by piece index: written by an earlier run and checked again now
  std::uint64_t refused = 0;        // records whose piece did not match what the temp file holds
};

Result<PullJournal> open_pull_journal(Context& ctx, const OutputFile& file, const std::string& identity,
                                      const codec::Manifest& manifest);
// The pieces not yet written, as ranges.
std::vector<IndexRange> pieces_to_fetch(const std::vector<char>& done, std::uint64_t count);

}  // namespace sx::engine
