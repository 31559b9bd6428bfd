// sx::Storage: owns the worker pool and, lazily, the event loop; opens the
// backend an operation needs and runs push or pull with them.
#include "sx/storage.h"

#include <curl/curl.h>

#include "engine/download_key.h"
#include "engine/pull.h"
#include "engine/push.h"
#include "engine/thread_pool.h"
#include "net/event_loop.h"

namespace sx {

struct Storage::Impl {
  explicit Impl(Options o) : options(std::move(o)), pool(options.workers) {}

  Options options;
  std::atomic<bool> cancelled{false};
  engine::ThreadPool pool;
  std::unique_ptr<net::EventLoop> loop;  // created when a network backend needs it

  net::EventLoop& event_loop() {
    if (!loop) {
      net::TransferOptions t;
      t.connect_timeout = std::chrono::seconds(options.connect_timeout_s);
      t.stall_timeout = std::chrono::seconds(options.stall_timeout_s);
      t.request_timeout = std::chrono::seconds(options.request_timeout_s);
      t.insecure = options.insecure;
      t.retry.max_retries = options.retries;
      loop = std::make_unique<net::EventLoop>(t);
      if (ProgressSink* sink = options.progress)
        loop->set_retry_observer([sink](const std::string& url, int attempt, const std::string& why) {
          sink->on_retry(url, attempt, why);
        });
    }
    return *loop;
  }

  net::BackendOptions backend_options() const {
    return net::BackendOptions{options.endpoint, options.acl, options.s3_sign_payload};
  }

  engine::Context context() {
    return engine::Context{options, pool, cancelled, codec::kDefaultLimits, codec::ManifestLimits{},
                           [this] { return loop ? loop->retries() : 0L; }};
  }
};

Storage::Storage(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Storage::~Storage() = default;

Result<std::string> Storage::upload(const std::string& path, const std::string& name) {
  impl_->cancelled = false;
  auto backend = net::open_backend(impl_->options.backend, impl_->backend_options(), [this]() -> net::EventLoop& { return impl_->event_loop(); });
  if (!backend) return std::move(backend).error();
  auto ctx = impl_->context();
  return engine::push(ctx, **backend, path, name);
}

// The URL part of a key (the fragment never leaves this process) and the
// content key it carries or the passphrase derives.
struct OpenedKey {
  std::string url;
  std::optional<codec::ContentKey> content_key;
};

static Result<OpenedKey> open_key(const std::string& text, const Options& options) {
  auto key = engine::parse_download_key(text);
  if (!key) return std::move(key).error();
  auto content_key = engine::resolve_content_key(*key, options.passphrase);
  if (!content_key) return std::move(content_key).error();
  return OpenedKey{std::move(key->url), std::move(*content_key)};
}

Result<std::string> Storage::download(const std::string& key, const std::string& out) {
  impl_->cancelled = false;
  auto opened = open_key(key, impl_->options);
  if (!opened) return std::move(opened).error();
  auto backend = net::backend_for_key(opened->url, impl_->backend_options(), [this]() -> net::EventLoop& { return impl_->event_loop(); });
  if (!backend) return std::move(backend).error();
  auto ctx = impl_->context();
  return engine::pull(ctx, **backend, opened->url, opened->content_key, out);
}

Result<FileInfo> Storage::info(const std::string& key) {
  auto opened = open_key(key, impl_->options);
  if (!opened) return std::move(opened).error();
  auto backend = net::backend_for_key(opened->url, impl_->backend_options(), [this]() -> net::EventLoop& { return impl_->event_loop(); });
  if (!backend) return std::move(backend).error();
  auto ctx = impl_->context();
  auto fetched = engine::fetch_manifest(ctx, **backend, opened->url, opened->content_key);
  if (!fetched) return std::move(fetched).error();
  const codec::Manifest& m = fetched->manifest;
  FileInfo info;
  info.name = m.name;
  info.size = m.size;
  info.sha256 = m.sha256;
  info.pieces = m.pieces.size();
  info.piece_bytes = m.piece_size;
  info.width = m.width;
  info.height = m.height;
  info.format = m.version == 1 ? "storagex v1" : "sxengine v2";
  info.manifest_levels = fetched->levels;
  info.encryption = m.encryption;
  return info;
}

void Storage::cancel() {
  impl_->cancelled = true;
  if (impl_->loop) impl_->loop->cancel_all();
}

Runtime::Runtime() { curl_global_init(CURL_GLOBAL_DEFAULT); }
Runtime::~Runtime() { curl_global_cleanup(); }

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument: return "invalid argument";
    case Errc::kNotFound: return "not found";
    case Errc::kIo: return "I/O error";
    case Errc::kCancelled: return "cancelled";
    case Errc::kCorrupt: return "corrupt";
    case Errc::kDenied: return "denied";
    case Errc::kTransient: return "unavailable";
    case Errc::kLimit: return "limit exceeded";
  }
  return "error";
}

}  // namespace sx
