#include "engine/pull/pull.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <optional>
#include <vector>
#include <chrono>
#include <cstring>

#include "base/text.h"
#include "codec/checksum.h"
#include "engine/pull/downloader.h"
#include "engine/core/journal_file.h"
#include "engine/core/journal_records.h"
#include "engine/ops/manifest_tree.h"
#include "engine/pull/file_digest.h"
#include "engine/pull/output_file.h"
#include "engine/core/resume_check.h"
#include "engine/stripe/host_guard.h"
#include "engine/stripe/stripe_rebuild.h"
#include <map>
#include <memory>
#include <mutex>

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
    std::mutex lost_mutex;  // guards lost
    std::vector<std::uint64_t> lost;
    FetchOptions options;
    options.on_failure = [&](const codec::PieceEntry& piece, const Error&) {
      std::lock_guard lock(lost_mutex);
      lost.push_back(piece.index);
    };
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
    if (auto rebuilt = rebuild_data_pieces(ctx, guard, checked, content_key, std::move(lost), read_held, keep, &backend);
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

struct PullJournal {
  std::optional<JournalFile> file;  // none when resuming is off
  std::vector<char> done;           // by piece index: written by an earlier run and checked again now
  std::uint64_t refused = 0;        // records whose piece did not match what the temp file holds
};

// The journal beside a resumable temp file: one record "INDEX DIGEST" per
// piece written, DIGEST the XXH3-128 of its plaintext. Records count only
// when the temp file itself was there to resume, and then only for pieces
// whose bytes read back from it match (resume_check.h).
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

// The pieces not yet written, as ranges.
std::vector<IndexRange> pieces_to_fetch(const std::vector<char>& done, std::uint64_t count) {
  std::vector<IndexRange> ranges;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (done[i]) continue;
    if (!ranges.empty() && ranges.back().end == i) ++ranges.back().end;
    else ranges.push_back({i, i + 1});
  }
  return ranges;
}

// A striped key with parity: every piece that can be had is written, a
// host that keeps failing is set aside (host_guard.h), and what is lost is
// then rebuilt from its stripe, the surviving pieces read back from the file.
Status fetch_with_parity(Context& ctx, net::Backend& backend, const CheckedManifest& checked,
                         const std::optional<codec::ContentKey>& content_key, std::span<const IndexRange> ranges,
                         OutputFile& file, const PieceSink& write_piece) {
  const codec::Manifest& manifest = checked.manifest();
  HostGuard guard(backend);
  std::mutex lost_mutex;  // guards lost
  std::vector<std::uint64_t> lost;
  FetchOptions options;
  options.on_failure = [&](const codec::PieceEntry& piece, const Error&) {
    std::lock_guard lock(lost_mutex);
    lost.push_back(piece.index);
  };
  Downloader downloader(ctx, guard, checked, content_key);
  // First pass without retries: a failed piece costs one parity piece to
  // rebuild, about what a retry costs, and a dead host costs nothing.
  const auto limit = [&](int retries) {
    if (ctx.limit_get_retries) ctx.limit_get_retries(retries);
  };
  limit(0);
  if (auto fetched = downloader.fetch(ranges, write_piece, options); !fetched) return fetched;
  if (ctx.cancelled()) return make_error(Errc::kCancelled, "pull cancelled");
  // A stripe that lost more than its parity gets its lost pieces asked for
  // again with retries, set-aside hosts too (two blips in a row set a host
  // aside; a dead one still costs well under a second).
  std::map<std::uint64_t, int> per_stripe;
  for (std::uint64_t i : lost) ++per_stripe[i / manifest.stripe_data];
  std::vector<IndexRange> again;
  std::vector<std::uint64_t> kept;
  for (std::uint64_t i : lost) {
    if (per_stripe[i / manifest.stripe_data] > manifest.stripe_parity) again.push_back({i, i + 1});
    else kept.push_back(i);
  }
  limit(HostGuard::kRetriesWithParity);
  if (!again.empty()) {
    lost = std::move(kept);
    Downloader patient(ctx, backend, checked, content_key);
    if (auto fetched = patient.fetch(again, write_piece, options); !fetched) return fetched;
  }
  const ReadData read_back = [&](const codec::PieceEntry& piece, std::span<std::byte> out) {
    return file.read_at(out, piece.offset);
  };
  return rebuild_data_pieces(ctx, guard, checked, content_key, std::move(lost), read_back, write_piece, &backend);
}

}  // namespace

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
