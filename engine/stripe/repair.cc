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

// One repair, in its three phases: find what is lost, rebuild each damaged
// stripe and store its pieces, store the manifest copies again.
class Repair {
 public:
  Repair(Context& ctx, net::Backend& reader, const CheckedManifest& checked, const DownloadKey& key,
         const std::optional<codec::ContentKey>& content_key, const BackendOpener& open, const std::string& target)
      : ctx_(ctx),
        checked_(checked),
        parity_(checked.parity()),
        key_(key),
        content_key_(content_key),
        open_(open),
        target_(target),
        // S3 objects go back through the S3 backend, signed (the endpoint is pull's).
        endpoint_(!ctx.options.endpoint.empty() ? ctx.options.endpoint : text::env("AWS_ENDPOINT_URL")),
        manifest_(checked.manifest()),
        d_(manifest_.stripe_data),
        k_(manifest_.stripe_parity),
        guard_(reader),
        transform_(content_key) {
    copies_.push_back(key.url);
    copies_.insert(copies_.end(), key.alternates.begin(), key.alternates.end());
  }

  Result<RepairReport> run() {
    if (auto found = find_lost(); !found) return std::move(found).error();
    auto geometry = codec::geometry_for_dimensions(manifest_.width, manifest_.height, ctx_.limits);
    if (!geometry) return std::move(geometry).error();
    geometry_ = *geometry;
    if (auto rebuilt = rebuild_stripes(); !rebuilt) return std::move(rebuilt).error();
    DownloadKey result = key_;
    if (auto stored = urls_changed_ ? store_new_manifests(result) : restore_lost_copies(result); !stored)
      return std::move(stored).error();
    report_.key = format_download_key(result);
    report_.key_changed = report_.key != format_download_key(key_);
    return report_;
  }

 private:
  // 1. Which pieces are missing or bad (every piece fetched and checked),
  // and which manifest copies no longer read.
  Status find_lost() {
    std::mutex mutex;  // guards lost_
    const auto scan = [&](const CheckedManifest& m, bool is_parity) -> Status {
      FetchOptions options;
      options.parity = is_parity;
      options.on_failure = [&](const codec::PieceEntry& piece, const Error&) {
        std::lock_guard lock(mutex);
        lost_[is_parity ? piece.index / k_ : piece.index / d_].push_back({is_parity, piece.index});
      };
      Downloader downloader(ctx_, guard_, m, content_key_);
      const IndexRange all{0, m->pieces.size()};
      return downloader.fetch({&all, 1}, [](const codec::PieceEntry&, std::span<const std::byte>) { return Status{}; },
                              options);
    };
    if (auto s = scan(checked_, false); !s) return s;
    if (auto s = scan(parity_, true); !s) return s;
    for (const auto& [stripe, pieces] : lost_)
      if (static_cast<int>(pieces.size()) > k_)
        return make_error(Errc::kCorrupt, "stripe " + std::to_string(stripe) + " lost " +
                                              std::to_string(pieces.size()) + " pieces, more than its " +
                                              std::to_string(k_) + " parity can rebuild: nothing was changed");
    for (std::size_t c = 0; c < copies_.size(); ++c)
      if (!fetch_manifest_tree(ctx_, guard_, copies_[c], content_key_)) lost_copies_.push_back(c);
    return {};
  }

  // 2. Each damaged stripe: fetch its survivors, decode, re-encode the lost
  // pieces exactly as push did (the stored payload's CRC must match the
  // manifest's), store them.
  Status rebuild_stripes() {
    auto code = codec::ErasureCode::create(d_, k_);
    if (!code) return std::move(code).error();
    shards_.resize(static_cast<std::size_t>(d_ + k_));
    for (auto& shard : shards_) shard = std::make_unique_for_overwrite<std::byte[]>(manifest_.piece_size);
    png_.resize(codec::max_png_bytes(geometry_));
    for (const auto& [stripe, pieces] : lost_) {
      if (ctx_.cancelled()) return make_error(Errc::kCancelled, "repair cancelled");
      ++report_.stripes;
      const std::uint64_t first = stripe * d_;
      const std::uint64_t longest = manifest_.pieces[first].size;
      bool present[codec::kMaxStripeShards];
      std::vector<std::byte*> pointers;
      for (int p = 0; p < d_ + k_; ++p) {
        present[p] = true;
        pointers.push_back(shards_[p].get());
        std::memset(shards_[p].get(), 0, longest);  // absent pieces of a short stripe, and padding
      }
      for (const Lost& l : pieces) present[position(l.parity, l.index, first)] = false;
      if (auto s = gather(checked_, false, {first, first + d_}, first, present); !s) return s;
      if (auto s = gather(parity_, true, {stripe * k_, stripe * k_ + k_}, first, present); !s) return s;
      if (auto s = code->reconstruct(pointers, std::span<const bool>(present, d_ + k_), longest); !s) return s;
      for (const Lost& l : pieces)
        if (auto s = store_rebuilt(l, first); !s) return s;
    }
    return {};
  }

  // A piece's place in its stripe's shards: data first, then parity.
  int position(bool is_parity, std::uint64_t index, std::uint64_t first) const {
    return is_parity ? d_ + static_cast<int>(index % k_) : static_cast<int>(index - first);
  }

  // The stripe's surviving pieces of one kind into their shards.
  Status gather(const CheckedManifest& m, bool is_parity, IndexRange range, std::uint64_t first, const bool* present) {
    std::vector<IndexRange> ranges;
    for (std::uint64_t i = range.begin; i < range.end && i < m->pieces.size(); ++i)
      if (present[position(is_parity, i, first)]) ranges.push_back({i, i + 1});
    FetchOptions options;
    options.parity = is_parity;
    Downloader downloader(ctx_, guard_, m, content_key_);
    return downloader.fetch(ranges, [&](const codec::PieceEntry& piece, std::span<const std::byte> payload) {
      std::memcpy(shards_[position(is_parity, piece.index, first)].get(), payload.data(), payload.size());
      return Status{};
    }, options);
  }

  // One rebuilt piece encoded as push encoded it and stored.
  Status store_rebuilt(const Lost& l, std::uint64_t first) {
    codec::PieceEntry& entry = l.parity ? manifest_.parity_pieces[l.index] : manifest_.pieces[l.index];
    const std::span<const std::byte> plain(shards_[position(l.parity, l.index, first)].get(), entry.size);
    const codec::PiecePlace place{l.parity ? 2u : 0u, l.index};
    std::optional<std::size_t> written;
    for (const bool compress : {false, true}) {
      codec::PieceHeader header;
      header.flags = l.parity ? codec::kFlagParity : 0;
      header.piece_index = l.index;
      auto w = transform_.write_piece(header, place, plain, compress, geometry_, png_);
      if (!w) return std::move(w).error();
      if (header.payload_crc32 == entry.crc32) {
        written = *w;
        break;
      }
    }
    const std::string what = std::string(l.parity ? "parity piece " : "piece ") + std::to_string(l.index);
    if (!written)
      return make_error(Errc::kCorrupt, what + " rebuilt does not match its checksum: nothing more was changed");
    const std::span<const std::byte> bytes(png_.data(), *written);
    const auto tag = transform_.last_tag();
    std::string name = (tag ? text::to_hex(std::span<const std::uint8_t>(tag->data(), tag->size()))
                            : codec::content_name(bytes)) + ".png";
    // In place, only where the key's own manifest copies live, under a
    // name sxengine gives: a stranger's key cannot aim repair elsewhere.
    if (target_.empty())
      if (auto allowed = checked_.policy().may_change(entry.key); !allowed)
        return make_error(Errc::kDenied, what + ": " + allowed.error().message +
                                             " (nothing more was written; repair --backend NEW puts it elsewhere)");
    std::string ignored;
    auto backend = backend_for(entry.key, ignored);
    if (!backend) return std::move(backend).error();
    std::string url;
    if (auto s = put_one(**backend, name, bytes, target_.empty(), url); !s) {
      Error e = std::move(s).error();
      e.message = what + ": " + e.message;
      if (target_.empty() && e.code == Errc::kDenied)
        e.message += "; image-host URLs cannot be stored into as they are: give repair --backend NEW";
      else if (target_.empty())
        e.message += "; if that host is gone for good, repair --backend NEW puts its pieces elsewhere";
      return e;
    }
    if (url != entry.key) urls_changed_ = true;
    entry.key = std::move(url);
    ++(l.parity ? report_.parity_pieces : report_.data_pieces);
    return {};
  }

  // 3a. Same URLs: each lost manifest copy is stored again as push stored it
  // (the same document and numbering give the same object).
  Status restore_lost_copies(DownloadKey& result) {
    TransformPool transforms(static_cast<std::size_t>(ctx_.pool.size()), content_key_);
    for (std::size_t c : lost_copies_) {
      std::string name;
      auto backend = backend_for(copies_[c], name);
      if (!backend) return std::move(backend).error();
      std::string stored;
      for (const Options::Compress compress : {Options::Compress::kAuto, Options::Compress::kNone}) {
        Uploader uploader(ctx_, **backend, geometry_, transforms, compress);
        auto root = store_manifest_tree(uploader, manifest_, std::uint64_t(c) << 32);
        if (!root) return std::move(root).error();
        stored = *root;
        if (stored == copies_[c]) break;
      }
      if (stored != copies_[c])  // stored, but not as it was: the key names the new copy
        (c == 0 ? result.url : result.alternates[c - 1]) = stored;
      ++report_.manifest_copies;
    }
    return {};
  }

  // 3b. New URLs: a new tree on the replacement and on every reachable
  // copy's backend, numbered from a random base (a new document never
  // reuses a nonce of the old one).
  Status store_new_manifests(DownloadKey& result) {
    std::vector<net::Backend*> places;
    std::set<net::Backend*> seen;
    std::string name;
    if (!target_.empty()) {
      auto b = backend_for(copies_[0], name);
      if (!b) return std::move(b).error();
      places.push_back(*b);
      seen.insert(*b);
    }
    for (std::size_t c = 0; c < copies_.size(); ++c) {
      if (std::find(lost_copies_.begin(), lost_copies_.end(), c) != lost_copies_.end()) continue;  // its host is gone
      auto place = place_of(copies_[c], endpoint_);
      if (!place) continue;
      auto b = opened_backend(place->first);
      if (!b) continue;
      if (seen.insert(*b).second) places.push_back(*b);
    }
    std::array<std::uint8_t, 4> random{};
    const codec::ContentKey noise = codec::random_key();
    std::memcpy(random.data(), noise.data(), random.size());
    const std::uint64_t base = (std::uint64_t(random[0]) << 56 | std::uint64_t(random[1]) << 48 |
                                std::uint64_t(random[2]) << 40 | std::uint64_t(random[3]) << 32) |
                               (std::uint64_t{1} << 63);
    TransformPool transforms(static_cast<std::size_t>(ctx_.pool.size()), content_key_);
    result.alternates.clear();
    for (std::size_t c = 0; c < places.size(); ++c) {
      Uploader uploader(ctx_, *places[c], geometry_, transforms, Options::Compress::kAuto);
      auto root = store_manifest_tree(uploader, manifest_, base | (std::uint64_t(c) << 24));
      if (!root) return std::move(root).error();
      if (c == 0) result.url = std::move(*root);
      else result.alternates.push_back(std::move(*root));
      ++report_.manifest_copies;
    }
    return {};
  }

  // Where a re-created object goes: the replacement, or back where it was.
  Result<net::Backend*> backend_for(const std::string& url, std::string& name) {
    auto place = place_of(url, endpoint_);
    std::string uri = target_;
    if (place) name = place->second;
    if (uri.empty()) {
      if (!place)
        return make_error(Errc::kInvalidArgument, "cannot store back into " + url +
                                                      " (not a file://, S3 or plain http(s):// place): give repair --backend NEW");
      uri = place->first;
    }
    return opened_backend(uri);
  }

  Result<net::Backend*> opened_backend(const std::string& uri) {
    auto it = opened_.find(uri);
    if (it == opened_.end()) {
      auto b = open_(uri);
      if (!b) return std::move(b).error();
      it = opened_.emplace(uri, std::move(*b)).first;
    }
    return it->second.get();
  }

  Context& ctx_;
  const CheckedManifest& checked_;
  const CheckedManifest parity_;
  const DownloadKey& key_;
  const std::optional<codec::ContentKey>& content_key_;
  const BackendOpener& open_;
  const std::string& target_;
  const std::string endpoint_;
  codec::Manifest manifest_;  // its keys change as pieces are put back
  const int d_, k_;
  HostGuard guard_;
  PayloadTransform transform_;
  codec::Geometry geometry_{};
  std::vector<std::string> copies_;                  // the key's manifest copies, first the main one
  std::vector<std::size_t> lost_copies_;             // those that no longer read
  std::map<std::uint64_t, std::vector<Lost>> lost_;  // by stripe
  std::map<std::string, std::unique_ptr<net::Backend>> opened_;
  std::vector<std::unique_ptr<std::byte[]>> shards_;
  std::vector<std::byte> png_;
  RepairReport report_;
  bool urls_changed_ = false;
};

}  // namespace

Result<RepairReport> repair(Context& ctx, net::Backend& reader, const CheckedManifest& checked, const DownloadKey& key,
                            const std::optional<codec::ContentKey>& content_key, const BackendOpener& open,
                            const std::string& target) {
  if (checked.manifest().stripe_parity == 0)
    return make_error(Errc::kInvalidArgument, "this key has no parity pieces (pushed to one backend, or --parity 0): "
                                              "there is nothing to rebuild from");
  return Repair(ctx, reader, checked, key, content_key, open, target).run();
}

}  // namespace sx::engine
