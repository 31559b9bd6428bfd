#include "engine/stripe/repair.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <string_view>
#include <optional>
#include <array>
#include <future>

#include "base/text.h"
#include "codec/checksum.h"
#include "codec/erasure_code.h"
#include "codec/piece_writer.h"
#include "engine/pull/downloader.h"
#include "engine/stripe/host_guard.h"
#include "engine/ops/manifest_tree.h"
#include "engine/core/payload_transform.h"
#include "engine/stripe/stripe_layout.h"
#include "engine/core/thread_pool.h"
#include "engine/push/uploader.h"

namespace sx::engine {
namespace {

// An S3 object's URL as the S3 backend makes it (net/s3_config.cc
// object_url) back to "s3://BUCKET/DIR/": path-style under the configured
// endpoint, or AWS's virtual-hosted BUCKET.s3.REGION.amazonaws.com.
std::optional<std::string> s3_place_of(std::string_view dir, const std::string& endpoint) {
  std::string base = endpoint;
  if (!base.empty() && base.back() != '/') base.push_back('/');
  if (!base.empty() && dir.substr(0, base.size()) == base) {
    const std::string_view rest = dir.substr(base.size());  // BUCKET/DIR/
    if (rest.empty() || rest.front() == '/') return std::nullopt;
    return "s3://" + std::string(rest);
  }
  constexpr std::string_view kHttps = "https://", kAws = ".amazonaws.com/";
  if (!endpoint.empty() || dir.substr(0, kHttps.size()) != kHttps) return std::nullopt;
  const std::string_view rest = dir.substr(kHttps.size());
  const std::size_t host_end = rest.find('/');
  const std::string_view host = rest.substr(0, host_end + 1);
  const std::size_t s3 = host.find(".s3.");
  if (s3 == std::string_view::npos || s3 == 0 || host.size() < kAws.size() ||
      host.substr(host.size() - kAws.size()) != kAws)
    return std::nullopt;
  return "s3://" + std::string(host.substr(0, s3)) + "/" + std::string(rest.substr(host_end + 1));
}

// The backend a stored object's URL came from, and the object's name:
// file:///ROOT/xx/NAME → file:///ROOT; an S3 object's URL → s3://BUCKET/DIR/;
// http(s)://HOST/PREFIX/NAME → its directory. Image-host URLs cannot be
// stored into this way (repair --backend).
std::optional<std::pair<std::string, std::string>> place_of(const std::string& url, const std::string& endpoint) {
  const std::size_t slash = url.rfind('/');
  if (slash == std::string::npos) return std::nullopt;
  std::string name = url.substr(slash + 1);
  if (url.rfind("file://", 0) == 0) {
    const std::size_t up = url.rfind('/', slash - 1);
    if (up == std::string::npos || up < 7) return std::nullopt;
    return std::pair(url.substr(0, up), std::move(name));
  }
  if (auto s3 = s3_place_of(std::string_view(url).substr(0, slash + 1), endpoint)) return std::pair(*s3, std::move(name));
  if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) return std::pair(url.substr(0, slash + 1), std::move(name));
  return std::nullopt;
}

// In place (`replacing`) the object goes back under the name its key holds,
// over whatever is there, and counts no new reference; onto --backend NEW it
// is a new key's object, stored as push stores.
Status put_one(net::Backend& backend, const std::string& name, std::span<const std::byte> png, bool replacing,
               std::string& url) {
  std::promise<Result<std::string>> promise;
  auto future = promise.get_future();
  auto done = [&promise](Result<std::string> r) { promise.set_value(std::move(r)); };
  if (replacing) backend.put_replacing(name, png, std::move(done));
  else backend.put(name, png, std::move(done));
  auto stored = future.get();
  if (!stored) return std::move(stored).error();
  url = std::move(*stored);
  return {};
}

struct Lost {
  bool parity = false;
  std::uint64_t index = 0;
};

}  // namespace

Result<RepairReport> repair(Context& ctx, net::Backend& reader, const CheckedManifest& checked, const DownloadKey& key,
                            const std::optional<codec::ContentKey>& content_key, const BackendOpener& open,
                            const std::string& target) {
  // S3 objects go back through the S3 backend, signed (the endpoint is pull's).
  const std::string endpoint = !ctx.options.endpoint.empty() ? ctx.options.endpoint : text::env("AWS_ENDPOINT_URL");
  codec::Manifest manifest = checked.manifest();  // its keys change as pieces are put back
  if (manifest.stripe_parity == 0)
    return make_error(Errc::kInvalidArgument, "this key has no parity pieces (pushed to one backend, or --parity 0): "
                                              "there is nothing to rebuild from");
  const StripeShape shape{manifest.stripe_data, manifest.stripe_parity};
  const int d = shape.data, k = shape.parity;
  const CheckedManifest parity = checked.parity();

  // 1. Which pieces are missing or bad: every piece fetched and checked.
  HostGuard guard(reader);
  std::mutex mutex;  // guards lost
  std::map<std::uint64_t, std::vector<Lost>> lost;  // by stripe
  const auto scan = [&](const CheckedManifest& m, bool is_parity) -> Status {
    FetchOptions options;
    options.parity = is_parity;
    options.on_failure = [&](const codec::PieceEntry& piece, const Error&) {
      std::lock_guard lock(mutex);
      lost[is_parity ? piece.index / k : piece.index / d].push_back({is_parity, piece.index});
    };
    Downloader downloader(ctx, guard, m, content_key);
    const IndexRange all{0, m->pieces.size()};
    return downloader.fetch({&all, 1}, [](const codec::PieceEntry&, std::span<const std::byte>) { return Status{}; },
                            options);
  };
  if (auto s = scan(checked, false); !s) return std::move(s).error();
  if (auto s = scan(parity, true); !s) return std::move(s).error();
  for (const auto& [stripe, pieces] : lost)
    if (static_cast<int>(pieces.size()) > k)
      return make_error(Errc::kCorrupt, "stripe " + std::to_string(stripe) + " lost " + std::to_string(pieces.size()) +
                                            " pieces, more than its " + std::to_string(k) +
                                            " parity can rebuild: nothing was changed");
  // Manifest copies that no longer read.
  std::vector<std::string> copies{key.url};
  copies.insert(copies.end(), key.alternates.begin(), key.alternates.end());
  std::vector<std::size_t> lost_copies;
  for (std::size_t c = 0; c < copies.size(); ++c)
    if (!fetch_manifest_tree(ctx, guard, copies[c], content_key)) lost_copies.push_back(c);

  // Where re-created objects go: the replacement, or back where they were.
  std::map<std::string, std::unique_ptr<net::Backend>> opened;
  const auto backend_for = [&](const std::string& url, std::string& name) -> Result<net::Backend*> {
    auto place = place_of(url, endpoint);
    std::string uri = target;
    if (place) name = place->second;
    if (uri.empty()) {
      if (!place)
        return make_error(Errc::kInvalidArgument, "cannot store back into " + url +
                                                      " (not a file://, S3 or plain http(s):// place): give repair --backend NEW");
      uri = place->first;
    }
    auto it = opened.find(uri);
    if (it == opened.end()) {
      auto b = open(uri);
      if (!b) return std::move(b).error();
      it = opened.emplace(uri, std::move(*b)).first;
    }
    return it->second.get();
  };

  // 2. Each damaged stripe: fetch its survivors, decode, re-encode the lost
  // pieces exactly as push did (the stored payload's CRC must match the
  // manifest's), store them.
  auto code = codec::ErasureCode::create(d, k);
  if (!code) return std::move(code).error();
  auto geometry = codec::geometry_for_dimensions(manifest.width, manifest.height, ctx.limits);
  if (!geometry) return std::move(geometry).error();
  const std::size_t piece_bytes = manifest.piece_size;
  std::vector<std::unique_ptr<std::byte[]>> shards(static_cast<std::size_t>(d + k));
  for (auto& s : shards) s = std::make_unique_for_overwrite<std::byte[]>(piece_bytes);
  std::vector<std::byte> png(codec::max_png_bytes(*geometry));
  PayloadTransform transform(content_key);
  RepairReport report;
  bool urls_changed = false;
  for (const auto& [stripe, pieces] : lost) {
    if (ctx.cancelled()) return make_error(Errc::kCancelled, "repair cancelled");
    ++report.stripes;
    const std::uint64_t first = stripe * d;
    const std::uint64_t longest = manifest.pieces[first].size;
    bool present[codec::kMaxStripeShards];
    std::vector<std::byte*> pointers;
    for (int p = 0; p < d + k; ++p) {
      present[p] = true;
      pointers.push_back(shards[p].get());
      std::memset(shards[p].get(), 0, longest);  // absent pieces of a short stripe, and padding
    }
    for (const Lost& l : pieces) present[l.parity ? d + static_cast<int>(l.index % k) : static_cast<int>(l.index - first)] = false;
    const auto gather = [&](const CheckedManifest& m, bool is_parity, IndexRange range) -> Status {
      std::vector<IndexRange> ranges;
      for (std::uint64_t i = range.begin; i < range.end && i < m->pieces.size(); ++i) {
        const int position = is_parity ? d + static_cast<int>(i % k) : static_cast<int>(i - first);
        if (present[position]) ranges.push_back({i, i + 1});
      }
      FetchOptions options;
      options.parity = is_parity;
      Downloader downloader(ctx, guard, m, content_key);
      return downloader.fetch(ranges, [&](const codec::PieceEntry& piece, std::span<const std::byte> payload) {
        const int position = is_parity ? d + static_cast<int>(piece.index % k) : static_cast<int>(piece.index - first);
        std::memcpy(shards[position].get(), payload.data(), payload.size());
        return Status{};
      }, options);
    };
    if (auto s = gather(checked, false, {first, first + d}); !s) return std::move(s).error();
    if (auto s = gather(parity, true, {stripe * k, stripe * k + k}); !s) return std::move(s).error();
    if (auto s = code->reconstruct(pointers, std::span<const bool>(present, d + k), longest); !s)
      return std::move(s).error();
    for (const Lost& l : pieces) {
      codec::PieceEntry& entry = l.parity ? manifest.parity_pieces[l.index] : manifest.pieces[l.index];
      const int position = l.parity ? d + static_cast<int>(l.index % k) : static_cast<int>(l.index - first);
      const std::span<const std::byte> plain(shards[position].get(), entry.size);
      const codec::PiecePlace place{l.parity ? 2u : 0u, l.index};
      std::optional<std::size_t> written;
      for (const bool compress : {false, true}) {
        codec::PieceHeader header;
        header.flags = l.parity ? codec::kFlagParity : 0;
        header.piece_index = l.index;
        auto w = transform.write_piece(header, place, plain, compress, *geometry, png);
        if (!w) return std::move(w).error();
        if (header.payload_crc32 == entry.crc32) {
          written = *w;
          break;
        }
      }
      const std::string what = std::string(l.parity ? "parity piece " : "piece ") + std::to_string(l.index);
      if (!written)
        return make_error(Errc::kCorrupt, what + " rebuilt does not match its checksum: nothing more was changed");
      const std::span<const std::byte> bytes(png.data(), *written);
      const auto tag = transform.last_tag();
      std::string name = (tag ? text::to_hex(std::span<const std::uint8_t>(tag->data(), tag->size()))
                              : codec::content_name(bytes)) + ".png";
      // In place, only where the key's own manifest copies live, under a
      // name sxengine gives: a stranger's key cannot aim repair elsewhere.
      if (target.empty())
        if (auto allowed = checked.policy().may_change(entry.key); !allowed)
          return make_error(Errc::kDenied, what + ": " + allowed.error().message +
                                               " (nothing more was written; repair --backend NEW puts it elsewhere)");
      std::string ignored;
      auto backend = backend_for(entry.key, ignored);
      if (!backend) return std::move(backend).error();
      std::string url;
      if (auto s = put_one(**backend, name, bytes, target.empty(), url); !s) {
        Error e = std::move(s).error();
        e.message = what + ": " + e.message;
        if (target.empty() && e.code == Errc::kDenied)
          e.message += "; image-host URLs cannot be stored into as they are: give repair --backend NEW";
        else if (target.empty())
          e.message += "; if that host is gone for good, repair --backend NEW puts its pieces elsewhere";
        return e;
      }
      if (url != entry.key) urls_changed = true;
      entry.key = std::move(url);
      ++(l.parity ? report.parity_pieces : report.data_pieces);
    }
  }

  // 3. The manifest copies. Same URLs: each lost copy is stored again as
  // push stored it (the same document and numbering give the same object);
  // new URLs: a new tree on the replacement and every copy's backend that
  // takes it, numbered from a random base (a new document never reuses a
  // nonce of the old one).
  TransformPool transforms(static_cast<std::size_t>(ctx.pool.size()), content_key);
  DownloadKey result = key;
  if (!urls_changed) {
    for (std::size_t c : lost_copies) {
      std::string name;
      auto backend = backend_for(copies[c], name);
      if (!backend) return std::move(backend).error();
      std::string stored;
      for (const Options::Compress compress : {Options::Compress::kAuto, Options::Compress::kNone}) {
        Uploader uploader(ctx, **backend, *geometry, transforms, compress);
        auto root = store_manifest_tree(uploader, manifest, std::uint64_t(c) << 32);
        if (!root) return std::move(root).error();
        stored = *root;
        if (stored == copies[c]) break;
      }
      if (stored != copies[c]) {  // stored, but not as it was: the key names the new copy
        (c == 0 ? result.url : result.alternates[c - 1]) = stored;
      }
      ++report.manifest_copies;
    }
  } else {
    std::vector<net::Backend*> places;
    std::set<net::Backend*> seen;
    std::string name;
    if (!target.empty()) {
      auto b = backend_for(copies[0], name);
      if (!b) return std::move(b).error();
      places.push_back(*b);
      seen.insert(*b);
    }
    for (std::size_t c = 0; c < copies.size(); ++c) {
      if (std::find(lost_copies.begin(), lost_copies.end(), c) != lost_copies.end()) continue;  // its host is gone
      auto place = place_of(copies[c], endpoint);
      if (!place) continue;
      auto it = opened.find(place->first);
      if (it == opened.end()) {
        auto b = open(place->first);
        if (!b) continue;
        it = opened.emplace(place->first, std::move(*b)).first;
      }
      if (seen.insert(it->second.get()).second) places.push_back(it->second.get());
    }
    std::array<std::uint8_t, 4> random{};
    const codec::ContentKey noise = codec::random_key();
    std::memcpy(random.data(), noise.data(), random.size());
    const std::uint64_t base = (std::uint64_t(random[0]) << 56 | std::uint64_t(random[1]) << 48 |
                                std::uint64_t(random[2]) << 40 | std::uint64_t(random[3]) << 32) |
                               (std::uint64_t{1} << 63);
    result.alternates.clear();
    for (std::size_t c = 0; c < places.size(); ++c) {
      Uploader uploader(ctx, *places[c], *geometry, transforms, Options::Compress::kAuto);
      auto root = store_manifest_tree(uploader, manifest, base | (std::uint64_t(c) << 24));
      if (!root) return std::move(root).error();
      if (c == 0) result.url = std::move(*root);
      else result.alternates.push_back(std::move(*root));
      ++report.manifest_copies;
    }
  }
  report.key = format_download_key(result);
  report.key_changed = report.key != format_download_key(key);
  return report;
}

}  // namespace sx::engine
