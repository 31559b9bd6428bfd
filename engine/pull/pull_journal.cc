#include "engine/pull/pull_journal.h"

#include <algorithm>

#include "engine/core/journal_records.h"
#include "engine/core/resume_check.h"

namespace sx::engine {

Result<PullJournal> open_pull_journal(Context& ctx, const OutputFile& file, const std::string& identity,
                                      const codec::Manifest& manifest) {
  PullJournal journal;
  journal.done.assign(manifest.pieces.size(), 0);
  if (file.journal_path().empty()) return journal;
  std::string payload = "-";
  std::vector<std::string> records;
  auto opened = JournalFile::open(file.journal_path(), identity, payload, records);
  if (!opened) return std::move(opened).error();
  journal.file.emplace(std::move(*opened));
  if (!file.resumed() || !journal.file->resumed()) return journal;
  std::vector<std::string> recorded(manifest.pieces.size());
  std::uint64_t listed = 0;
  for (const std::string& record : records) {
    auto parsed = parse_pull_record(record);
    if (!parsed || parsed->first >= recorded.size()) continue;
    listed += recorded[parsed->first].empty();
    recorded[parsed->first] = std::move(parsed->second);
  }
  journal.done = verify_written_pieces(ctx, file, manifest, recorded);
  journal.refused = listed - static_cast<std::uint64_t>(std::count(journal.done.begin(), journal.done.end(), 1));
  return journal;
}

std::vector<IndexRange> pieces_to_fetch(const std::vector<char>& done, std::uint64_t count) {
  std::vector<IndexRange> ranges;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (done[i]) continue;
    if (!ranges.empty() && ranges.back().end == i) ++ranges.back().end;
    else ranges.push_back({i, i + 1});
  }
  return ranges;
}

}  // namespace sx::engine
