#include "engine/ops/verify.h"

#include <algorithm>
#include <mutex>

#include "base/text.h"
#include "codec/checksum.h"
#include "engine/pull/downloader.h"
#include "engine/pull/file_digest.h"
#include "engine/ops/manifest_tree.h"
#include "engine/stripe/host_guard.h"
#include "engine/stripe/stripe_layout.h"
#include "net/key_router.h"
#include <map>
#include <optional>

namespace sx::engine {
namespace {

// Where a backend's pieces are, for people: the origin of an HTTP URL, the
// store directory of a file:// one (objects sit at ROOT/xx/NAME.png).
std::string place_of(const std::string& url) {
  if (url.rfind("file://", 0) != 0) return net::url_origin(url);
  std::string dir = url.substr(0, url.rfind('/'));
  return dir.substr(0, dir.rfind('/'));
}

// A striped key's parity pieces, per backend counts and which stripes can
// still be rebuilt (each stripe survives up to K lost pieces).
Status check_stripes(Context& ctx, net::Backend& reader, const CheckedManifest& checked,
                     const std::optional<codec::ContentKey>& content_key, VerifyReport& result) {
  const codec::Manifest& manifest = checked.manifest();
  const StripeShape shape{manifest.stripe_data, manifest.stripe_parity};
  result.stripe_data = shape.data;
  result.stripe_parity = shape.parity;
  result.stripes = manifest.stripes();
  std::mutex mutex;  // guards result.problems
  if (shape.parity > 0) {
    const CheckedManifest parity = checked.parity();
    FetchOptions options;
    options.parity = true;
    options.on_failure = [&](const codec::PieceEntry& piece, const Error& error) {
      std::lock_guard lock(mutex);
      result.problems.push_back({piece.index, piece.key, error.code, error.message, true});
    };
    Downloader downloader(ctx, reader, parity, content_key);
    const IndexRange all{0, parity->pieces.size()};
    Status fetched = downloader.fetch({&all, 1}, [](const codec::PieceEntry&, std::span<const std::byte>) {
      return Status{};
    }, options);
    if (!fetched) return fetched;
  }
  result.backends.resize(static_cast<std::size_t>(shape.backends()));
  for (int b = 0; b < shape.backends(); ++b) result.backends[b].slot = b;
  std::map<std::pair<bool, std::uint64_t>, Errc> bad;
  for (const PieceProblem& p : result.problems) bad[{p.parity, p.index}] = p.code;
  std::map<std::uint64_t, int> losses;  // by stripe
  const auto count = [&](bool is_parity, const codec::PieceEntry& piece) {
    const int slot = is_parity ? slot_of_parity(shape, piece.index) : slot_of_data(shape, piece.index);
    BackendHealth& health = result.backends[slot];
    if (health.host.empty()) health.host = place_of(piece.key);
    auto it = bad.find({is_parity, piece.index});
    if (it == bad.end()) return ++health.present, void();
    it->second == Errc::kCorrupt ? ++health.corrupt : ++health.missing;
    ++losses[is_parity ? piece.index / shape.parity : piece.index / shape.data];
  };
  for (const codec::PieceEntry& piece : manifest.pieces) count(false, piece);
  for (const codec::PieceEntry& piece : manifest.parity_pieces) count(true, piece);
  for (const auto& [stripe, lost] : losses)
    if (lost > shape.parity) result.unrecoverable_stripes.push_back(stripe);
  return {};
}

}  // namespace

Result<VerifyReport> verify(Context& ctx, net::Backend& backend, const CheckedManifest& checked,
                            const std::optional<codec::ContentKey>& content_key, bool check_sha256) {
  const codec::Manifest& manifest = checked.manifest();
  const std::string& url = checked.url();
  report(ctx.options.progress, [&](ProgressSink& p) { p.on_start("verify", manifest.size, manifest.pieces.size()); });

  VerifyReport result;
  result.pieces = manifest.pieces.size();
  result.manifest_levels = checked.levels();
  std::mutex problems_mutex;  // guards result.problems
  FileDigestCheck digest(manifest, {}, check_sha256);  // in order: nothing is read back
  FetchOptions options;
  options.in_order = true;  // the whole-file digest is taken as pieces pass, in bounded memory
  options.on_failure = [&](const codec::PieceEntry& piece, const Error& error) {
    std::lock_guard lock(problems_mutex);
    result.problems.push_back({piece.index, piece.key, error.code, error.message});
  };
  // A striped key: dead hosts are set aside, parity pieces are checked too.
  std::optional<HostGuard> guard;
  if (manifest.stripe_data > 0) guard.emplace(backend);
  net::Backend& reader = guard ? static_cast<net::Backend&>(*guard) : backend;
  Downloader downloader(ctx, reader, checked, content_key);
  const IndexRange all{0, manifest.pieces.size()};
  Status fetched_all = downloader.fetch({&all, 1}, [&](const codec::PieceEntry& piece, std::span<const std::byte> payload) {
    result.bytes += piece.size;
    return digest.landed(piece, payload);
  }, options);
  if (!fetched_all) return std::move(fetched_all).error();
  if (manifest.stripe_data > 0) {
    if (auto striped = check_stripes(ctx, reader, checked, content_key, result); !striped)
      return std::move(striped).error();
  }
  // Every manifest copy the key names (the one that was read counts as read).
  result.manifest_copies = 1 + static_cast<int>(ctx.manifest_alternates.size());
  result.manifest_copies_ok = result.manifest_copies;
  std::vector<std::string> copies{url};
  copies.insert(copies.end(), ctx.manifest_alternates.begin(), ctx.manifest_alternates.end());
  for (const std::string& copy : copies) {
    if (copies.size() == 1 || copy == checked.manifest_keys().front()) continue;
    if (!fetch_manifest_tree(ctx, reader, copy, content_key)) --result.manifest_copies_ok;
  }
  std::sort(result.problems.begin(), result.problems.end(), [](const PieceProblem& a, const PieceProblem& b) {
    return a.parity != b.parity ? b.parity : a.index < b.index;
  });
  // The file's digest can be judged only when every piece came through.
  result.digest = manifest.version == 1 ? "none" : manifest.digest;
  const bool data_complete = std::none_of(result.problems.begin(), result.problems.end(),
                                          [](const PieceProblem& p) { return !p.parity; });
  if (manifest.version != 1 && data_complete) {
    result.digest_checked = true;
    Status checked = digest.finish();
    result.digest_matches = bool(checked);
    result.sha256 = digest.sha256();
  }
  return result;
}

}  // namespace sx::engine
