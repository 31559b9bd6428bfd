#include "engine/piece_source.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <set>

#include "base/text.h"
#include "codec/checksum.h"
#include "engine/core/cancel_token.h"
#include "engine/core/download_key.h"
#include "engine/core/thread_pool.h"
#include "engine/core/transfer_options.h"
#include "engine/keys/checked_manifest.h"
#include "engine/keys/key_policy.h"
#include "engine/keys/key_session.h"
#include "engine/pull/downloader.h"
#include "net/event_loop.h"

namespace sx::engine {

struct OpenedKey::Checked {
  CheckedManifest manifest;
  std::optional<codec::ContentKey> content_key;
};

const codec::Manifest& OpenedKey::manifest() const { return checked_->manifest.manifest(); }

// One operation's own cancel state: the engine's flag and the loop's operation.
struct PieceFetch::State {
  CancelToken token;
  net::EventLoop* loop = nullptr;
  net::OperationId operation = 0;
  std::mutex mutex;  // guards ended: a cancel after end_operation would mark the id for ever
  bool ended = false;

  void cancel() {
    token.request();
    std::lock_guard lock(mutex);
    if (!ended) loop->cancel(operation);
  }
  void end() {
    std::lock_guard lock(mutex);
    ended = true;
    loop->end_operation(operation);
  }
};

void PieceFetch::cancel() const {
  if (state_) state_->cancel();
}

struct PieceSource::Impl {
  Options options;
  KeyPolicyOptions policy;
  ThreadPool pool;
  std::unique_ptr<net::EventLoop> loop;
  std::atomic<net::OperationId> last_operation{0};
  std::mutex mutex;  // guards running, stopping
  std::set<std::shared_ptr<PieceFetch::State>> running;
  bool stopping = false;

  Impl(const Options& o, const KeyPolicyOptions& p) : options(o), policy(p), pool(o.workers) {}

  std::shared_ptr<PieceFetch::State> new_state() {
    auto state = std::make_shared<PieceFetch::State>();
    state->loop = loop.get();
    state->operation = ++last_operation;
    return state;
  }
  // Registers the operation for stop(); false when stopping.
  bool begin(const std::shared_ptr<PieceFetch::State>& state) {
    std::lock_guard lock(mutex);
    if (stopping) return false;
    running.insert(state);
    return true;
  }
  void finish(const std::shared_ptr<PieceFetch::State>& state) {
    state->end();
    std::lock_guard lock(mutex);
    running.erase(state);
  }
  // The key's session, as pull's: its policy, routed and guarded backends.
  KeySession session(PieceFetch::State& state, const KeyPolicy& key_policy) {
    net::EventLoop* l = loop.get();
    return KeySession(options, pool, state.token, state.operation, key_policy,
                      [l]() -> Result<net::EventLoop*> { return l; }, [l] { return l->retries(); },
                      [&state] { state.cancel(); });
  }
};

namespace {

// pull's transfer settings; piece fetches are capped by the caller's
// threads, manifests come on top.
net::TransferOptions source_transfer_options(const Options& options) {
  net::TransferOptions t = transfer_options(options);
  t.max_in_flight *= 2;
  return t;
}

}  // namespace

PieceSource::PieceSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PieceSource::~PieceSource() { stop(); }

Result<std::unique_ptr<PieceSource>> PieceSource::create(const Options& options, const Reach& reach) {
  KeyPolicyOptions policy;
  policy.allow_file = reach.file_keys;
  policy.allow_internal = reach.internal;
  policy.never_internal = reach.never_internal;
  policy.s3_endpoint = options.endpoint;
  auto impl = std::make_unique<Impl>(options, policy);
  auto loop = net::EventLoop::create(source_transfer_options(options));
  if (!loop) return std::move(loop).error();
  impl->loop = std::move(*loop);
  return std::unique_ptr<PieceSource>(new PieceSource(std::move(impl)));
}

void PieceSource::stop() {
  std::lock_guard lock(impl_->mutex);
  impl_->stopping = true;
  for (const auto& state : impl_->running) state->cancel();
}

Result<KeyRef> PieceSource::parse_key(std::string_view text) {
  auto key = parse_download_key(text);
  if (!key) return std::move(key).error();
  auto content_key = resolve_content_key(*key, "");
  if (!content_key) return make_error(Errc::kDenied, "this key needs a passphrase, which the gateway cannot take");
  KeyRef ref;
  ref.url_ = key->url;
  ref.alternates_ = key->alternates;
  ref.content_key_ = *content_key;
  std::string material = ref.url_;
  material.push_back('\0');
  if (ref.content_key_) material.append(reinterpret_cast<const char*>(ref.content_key_->data()), ref.content_key_->size());
  ref.id_ = text::to_hex(codec::sha256(std::as_bytes(std::span(material))));
  return ref;
}

Result<std::shared_ptr<const OpenedKey>> PieceSource::open(const KeyRef& key) {
  auto state = impl_->new_state();
  if (!impl_->begin(state)) return make_error(Errc::kCancelled, "the gateway is stopping");
  Result<CheckedManifest> manifest = make_error(Errc::kIo, "no result");
  // The key's first manifest URL, else each copy it names (a striped push
  // stores one on every backend), as pull reads them.
  std::vector<std::string> manifest_urls{key.url_};
  manifest_urls.insert(manifest_urls.end(), key.alternates_.begin(), key.alternates_.end());
  auto policy = KeyPolicy::for_key(manifest_urls, impl_->policy);
  if (!policy) {
    manifest = std::move(policy).error();
  } else {
    KeySession session = impl_->session(*state, *policy);
    manifest = session.open(key.url_, key.alternates_, key.content_key_);
  }
  impl_->finish(state);
  if (!manifest) return std::move(manifest).error();
  auto opened = std::make_shared<OpenedKey>();
  opened->id_ = key.id_;
  opened->url_ = key.url_;
  opened->checked_ = std::make_shared<const OpenedKey::Checked>(OpenedKey::Checked{std::move(*manifest), key.content_key_});
  return std::shared_ptr<const OpenedKey>(std::move(opened));
}

PieceFetch PieceSource::new_fetch() {
  PieceFetch handle;
  handle.state_ = impl_->new_state();
  return handle;
}

Status PieceSource::fetch(const PieceFetch& handle, const OpenedKey& key, std::uint64_t index,
                          std::span<std::byte> into) {
  const std::shared_ptr<PieceFetch::State>& state = handle.state_;
  if (!impl_->begin(state)) return make_error(Errc::kCancelled, "the gateway is stopping");
  const OpenedKey::Checked& checked = *key.checked_;
  KeySession session = impl_->session(*state, checked.manifest.policy());
  Downloader downloader(session.context(), session.backend(), checked.manifest, checked.content_key);
  const IndexRange one{index, index + 1};
  const Status status =
      downloader.fetch({&one, 1}, [&](const codec::PieceEntry&, std::span<const std::byte> payload) -> Status {
        if (payload.size() != into.size()) return make_error(Errc::kCorrupt, "piece size differs from the manifest");
        std::memcpy(into.data(), payload.data(), payload.size());
        return {};
      });
  impl_->finish(state);
  return status;
}

}  // namespace sx::engine
