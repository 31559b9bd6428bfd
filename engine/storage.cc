// sx::Storage: owns the worker pool and, lazily, the event loop; opens the
// backend an operation needs and runs push, pull or info with them. Nothing
// throws out of it: every exception below becomes an Error here.
#include "sx/storage.h"

#include <sys/stat.h>

#include <algorithm>
#include <mutex>
#include <new>
#include <utility>

#include "base/text.h"
#include "codec/storagex_v1_writer.h"
#include "codec/versions.h"
#include "engine/core/cancel_token.h"
#include "engine/core/progress_queue.h"
#include "engine/keys/checked_manifest.h"
#include "engine/keys/key_policy.h"
#include "engine/keys/key_session.h"
#include "engine/core/download_key.h"
#include "engine/pull/downloader.h"
#include "engine/ops/manifest_tree.h"
#include "engine/core/png_body_check.h"
#include "engine/pull/pull.h"
#include "engine/ops/remove.h"
#include "engine/stripe/repair.h"
#include "engine/push/push.h"
#include "engine/tree/tree_pull.h"
#include "engine/tree/tree_push.h"
#include "engine/stripe/striped_push.h"
#include "engine/push/storagex_push.h"
#include "engine/core/thread_pool.h"
#include "engine/core/transfer_options.h"
#include "engine/ops/verify.h"
#include "net/backend_identity.h"
#include "net/event_loop.h"
#include "net/key_router.h"
#include "net/runtime.h"

namespace sx {

namespace {

// The URL part of a key (the fragment never leaves this process) and the
// content key it carries or the passphrase derives.
struct OpenedKey {
  std::string url;
  std::optional<codec::ContentKey> content_key;
  std::vector<std::string> alternates;  // further manifest copies (&m=)
};

Result<OpenedKey> open_key(const std::string& text, const Options& options) {
  auto key = engine::parse_download_key(text);
  if (!key) return std::move(key).error();
  auto content_key = engine::resolve_content_key(*key, options.passphrase);
  if (!content_key) return std::move(content_key).error();
  return OpenedKey{std::move(key->url), std::move(*content_key), std::move(key->alternates)};
}

// A directory (a symlink to one too: the user named it) is pushed as a tree.
bool is_directory(const std::string& path) {
  struct stat st {};
  return path != "-" && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

struct Storage::Impl {
  explicit Impl(Options o)
      : progress(o.progress ? std::make_unique<engine::ProgressQueue>(*o.progress) : nullptr),
        options(with_progress(std::move(o), progress.get())),
        pool(options.workers) {}

  static Options with_progress(Options o, ProgressSink* queue) {
    o.progress = queue;
    return o;
  }

  // The user's sink behind a queue of its own (engine/core/progress_queue.h):
  // the engine reports from any thread, the user's code runs on one, never
  // on the loop's. Declared first: it outlives the pool and the loop.
  std::unique_ptr<engine::ProgressQueue> progress;
  Options options;
  engine::ThreadPool pool;
  engine::CancelToken cancel_token;
  std::mutex loop_mutex;  // guards loop, operation and cancel_token's reset (cancel() runs on any thread)
  std::unique_ptr<net::EventLoop> loop;  // created when a network backend needs it
  net::OperationId last_operation = 0;
  net::OperationId operation = 0;  // of the running operation; 0 between operations
  bool cancel_pending = false;     // cancel() came between operations: the next one starts cancelled

  Result<net::EventLoop*> event_loop() {
    std::lock_guard lock(loop_mutex);
    if (!loop) {
      const net::TransferOptions t = engine::transfer_options(options);
      auto created = net::EventLoop::create(t);
      if (!created) return std::move(created).error();
      loop = std::move(*created);
      if (ProgressSink* sink = options.progress)
        loop->set_retry_observer([sink](const std::string& url, int attempt, const std::string& why) {
          sink->on_retry(url, attempt, why);
        });
    }
    return loop.get();
  }

  net::BackendOptions backend_options() const { return engine::backend_options(options, operation); }

  std::function<Result<net::EventLoop*>()> loop_provider() {
    return [this] { return event_loop(); };
  }

  // Requests retried so far, for the progress line.
  std::function<long()> retries() {
    return [this] {
      std::lock_guard lock(loop_mutex);
      return loop ? loop->retries() : 0L;
    };
  }

  // Ends the running operation's requests in flight (a piece failed for good).
  std::function<void()> stop_requests() {
    return [this] {
      std::lock_guard lock(loop_mutex);
      if (loop && operation != 0) loop->cancel(operation);
    };
  }

  engine::Context context() {
    return engine::Context{options, pool, cancel_token, codec::kDefaultLimits, codec::ManifestLimits{}, retries(),
                           {0}, {}, {}, stop_requests()};
  }

  // Every public operation runs through here: a fresh cancel state, its own
  // operation id, and no exception past this frame.
  template <class T, class Run>
  Result<T> operation_scope(Run&& run) {
    {
      std::lock_guard lock(loop_mutex);
      operation = ++last_operation;
      cancel_token.reset();
      if (std::exchange(cancel_pending, false)) cancel_token.request();  // a cancel() that came first
    }
    Result<T> result = make_error(Errc::kIo, "no result");
    try {
      result = run();
    } catch (const std::bad_alloc&) {
      result = make_error(Errc::kLimit, "out of memory");
    } catch (const std::exception& e) {
      result = make_error(Errc::kIo, std::string("internal error: ") + e.what());
    }
    if (progress) progress->drain();  // every event of this operation delivered before it returns
    std::lock_guard lock(loop_mutex);
    if (loop) loop->end_operation(operation);
    operation = 0;
    return result;
  }

  // What every operation on a key does first, in one operation scope: open
  // the key, its policy (engine/keys/key_policy.h), the backend that reads it
  // (each object through the backend its URL needs, behind the policy), a
  // context, and the checked manifest; then `run` them.
  template <class T, class Run>
  Result<T> on_key(const std::string& text, Run&& run) {
    return operation_scope<T>([&]() -> Result<T> {
      auto opened = open_key(text, options);
      if (!opened) return std::move(opened).error();
      std::vector<std::string> manifest_urls{opened->url};
      manifest_urls.insert(manifest_urls.end(), opened->alternates.begin(), opened->alternates.end());
      engine::KeyPolicyOptions policy_options;
      policy_options.allow_internal = options.allow_private_addresses;
      policy_options.s3_endpoint = options.endpoint;
      auto policy = engine::KeyPolicy::for_key(manifest_urls, policy_options);
      if (!policy) return std::move(policy).error();
      engine::KeySession session(options, pool, cancel_token, operation, *policy, loop_provider(), retries(),
                                 stop_requests());
      auto checked = session.open(opened->url, opened->alternates, opened->content_key);
      if (!checked) return std::move(checked).error();
      return run(session.context(), session.backend(), *checked, *opened);
    });
  }
};

Storage::Storage(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {
  (void)net::process_setup();  // a failure surfaces as the libraries' own errors
}
Storage::~Storage() = default;

Result<std::string> Storage::upload(const std::string& path, const std::string& name) {
  auto pushed = push({path}, name);
  if (!pushed) return std::move(pushed).error();
  return std::move(pushed->key);
}

Result<std::string> Storage::upload(const std::vector<std::string>& paths, const std::string& name) {
  auto pushed = push(paths, name);
  if (!pushed) return std::move(pushed).error();
  return std::move(pushed->key);
}

Result<Pushed> Storage::push(const std::vector<std::string>& paths, const std::string& name) {
  if (paths.size() == 1 && !is_directory(paths.front())) return push_file(paths.front(), name);
  return impl_->operation_scope<Pushed>([&]() -> Result<Pushed> {
    const Options& o = impl_->options;
    if (o.backends.size() >= 2 || o.parity > 0)
      return make_error(Errc::kInvalidArgument, "a tree cannot be striped over several backends yet: give one --backend");
    for (const std::string& path : paths)
      if (path == "-") return make_error(Errc::kInvalidArgument, "- (stdin) cannot be part of a tree: push it alone");
    auto backend = net::open_backend(o.backend, impl_->backend_options(), impl_->loop_provider());
    if (!backend) return std::move(backend).error();
    auto ctx = impl_->context();
    return engine::push_tree(ctx, **backend, paths, name);
  });
}

Result<Pushed> Storage::push_file(const std::string& path, const std::string& name) {
  return impl_->operation_scope<Pushed>([&]() -> Result<Pushed> {
    const Options& o = impl_->options;
    if (o.backends.size() >= 2) {  // striped over several backends (docs/FORMAT.md §10)
      std::vector<std::unique_ptr<net::Backend>> owned;
      std::vector<net::Backend*> backends;
      // Compared by what they are, not how they are written: dir:/x and
      // file:///x are one disk (net/backend_identity.h).
      std::vector<std::string> identities, hosts;
      for (const std::string& uri : o.backends) {
        identities.push_back(net::backend_identity(uri, o.endpoint));
        hosts.push_back(net::backend_host(uri, o.endpoint));
      }
      for (std::size_t i = 0; i < o.backends.size(); ++i)
        for (std::size_t j = 0; j < i; ++j) {
          if (identities[i] == identities[j])
            return make_error(Errc::kInvalidArgument, "--backend " + o.backends[i].substr(0, 200) + " and " +
                                                          o.backends[j].substr(0, 200) +
                                                          " are the same place: one host holding two pieces of a "
                                                          "stripe defeats the parity");
          if (hosts[i] == hosts[j] && hosts[i] != "file:" && o.progress)
            o.progress->on_note("--backend " + o.backends[j].substr(0, 200) + " and " + o.backends[i].substr(0, 200) +
                                   " are on one host (" + hosts[i] + "): if it fails, both are lost at once");
        }
      for (const std::string& uri : o.backends) {
        auto opened = net::open_backend(uri, impl_->backend_options(), impl_->loop_provider());
        if (!opened) return std::move(opened).error();
        backends.push_back(opened->get());
        owned.push_back(std::move(*opened));
      }
      auto ctx = impl_->context();
      return engine::push_striped(ctx, backends, o.parity < 0 ? 1 : o.parity, path, name);
    }
    if (o.parity > 0)
      return make_error(Errc::kInvalidArgument, "--parity " + std::to_string(o.parity) + " needs at least " +
                                                    std::to_string(o.parity + 1) + " backends (give --backend more than once)");
    auto backend = net::open_backend(impl_->options.backend, impl_->backend_options(), impl_->loop_provider());
    if (!backend) return std::move(backend).error();
    auto ctx = impl_->context();
    return engine::push(ctx, **backend, path, name);
  });
}

Result<StoragexUpload> Storage::upload_storagex_v1(const std::string& path, const std::string& name) {
  return impl_->operation_scope<StoragexUpload>([&]() -> Result<StoragexUpload> {
    if (!impl_->options.passphrase.empty())
      return make_error(Errc::kInvalidArgument,
                        "the storagex v1 format is unencrypted: a passphrase cannot apply to it");
    auto backend = net::open_backend(impl_->options.backend, impl_->backend_options(), impl_->loop_provider());
    if (!backend) return std::move(backend).error();
    auto ctx = impl_->context();
    auto pushed = engine::storagex_push(ctx, **backend, path, name, impl_->options.width, impl_->options.height);
    if (!pushed) return std::move(pushed).error();
    return StoragexUpload{std::move(pushed->key), std::move(pushed->meta_json), std::move(pushed->name), pushed->size};
  });
}

Result<std::string> Storage::download(const std::string& key, const std::string& out) {
  return impl_->on_key<std::string>(key, [&](engine::Context& ctx, net::Backend& backend,
                                             const engine::CheckedManifest& checked, const OpenedKey& k) {
    if (checked->is_tree()) return engine::pull_tree(ctx, backend, checked, k.content_key, out);
    return engine::pull(ctx, backend, checked, k.content_key, out);
  });
}

Result<FileInfo> Storage::info(const std::string& key) {
  return impl_->on_key<FileInfo>(key, [&](engine::Context&, net::Backend&, const engine::CheckedManifest& checked,
                                           const OpenedKey& k) -> Result<FileInfo> {
    const codec::Manifest& m = checked.manifest();
    FileInfo info;
    info.name = m.name;
    info.size = m.size;
    info.sha256 = m.sha256;
    info.digest = m.version == 1 ? "none" : m.digest;
    info.pieces = m.pieces.size();
    info.piece_bytes = m.piece_size;
    info.width = m.width;
    info.height = m.height;
    info.format = m.version == 1 ? "storagex v1" : "sxengine v2";
    info.manifest_levels = checked.levels();
    info.encryption = m.encryption;
    info.stripe_data = m.stripe_data;
    info.stripe_parity = m.stripe_parity;
    info.stripes = m.stripes();
    info.manifest_copies = 1 + static_cast<int>(k.alternates.size());
    info.entries = m.tree.size();
    info.files = static_cast<std::uint64_t>(std::count_if(
        m.tree.begin(), m.tree.end(), [](const codec::TreeEntry& e) { return e.type == codec::EntryType::kFile; }));
    return info;
  });
}

Result<std::vector<TreeItem>> Storage::list(const std::string& key) {
  return impl_->on_key<std::vector<TreeItem>>(key, [&](engine::Context&, net::Backend&,
                                                       const engine::CheckedManifest& checked,
                                                       const OpenedKey&) -> Result<std::vector<TreeItem>> {
    const codec::Manifest& m = checked.manifest();
    std::vector<TreeItem> items;
    if (!m.is_tree()) {
      items.push_back(TreeItem{m.name, "file", 0, 0, m.size, {}});
      return items;
    }
    items.reserve(m.tree.size());
    for (const codec::TreeEntry& e : m.tree)
      items.push_back(TreeItem{e.path, std::string(codec::entry_type_name(e.type)), e.mode, e.mtime_ns,
                               e.type == codec::EntryType::kFile ? e.size : 0, e.target});
    return items;
  });
}

Result<std::string> Storage::storagex_meta(const std::string& key) {
  return impl_->on_key<std::string>(key, [&](engine::Context&, net::Backend&, const engine::CheckedManifest& checked,
                                             const OpenedKey&) -> Result<std::string> {
    const codec::Manifest& m = checked.manifest();
    if (m.version != 1) return make_error(Errc::kInvalidArgument, key + " is an sxengine key, not a storagex v1 one");
    codec::StoragexMeta meta;
    meta.filename = m.name;
    meta.piece_width = m.width;
    meta.piece_height = m.height;
    for (const codec::PieceEntry& p : m.pieces) meta.pieces.push_back({p.index, p.key, p.offset, p.size});
    return codec::to_storagex_v1_json(meta);
  });
}

Result<VerifyReport> Storage::verify(const std::string& key, bool sha256) {
  return impl_->on_key<VerifyReport>(key, [&](engine::Context& ctx, net::Backend& backend,
                                               const engine::CheckedManifest& checked, const OpenedKey& k) {
    return engine::verify(ctx, backend, checked, k.content_key, sha256);
  });
}

Result<RemoveReport> Storage::remove(const std::string& key, bool force) {
  return impl_->on_key<RemoveReport>(key, [&](engine::Context& ctx, net::Backend& backend,
                                               const engine::CheckedManifest& checked, const OpenedKey& k) {
    return engine::remove(ctx, backend, checked, k.content_key, force);
  });
}

Result<RepairReport> Storage::repair(const std::string& key, const std::string& backend) {
  return impl_->on_key<RepairReport>(key, [&](engine::Context& ctx, net::Backend& reader,
                                               const engine::CheckedManifest& checked,
                                               const OpenedKey& k) -> Result<RepairReport> {
    auto parsed = engine::parse_download_key(key);
    if (!parsed) return std::move(parsed).error();
    const engine::BackendOpener open = [this](const std::string& uri) {
      return net::open_backend(uri, impl_->backend_options(), impl_->loop_provider());
    };
    return engine::repair(ctx, reader, checked, *parsed, k.content_key, open, backend);
  });
}

void Storage::cancel() {
  std::lock_guard lock(impl_->loop_mutex);
  if (impl_->operation == 0) {  // latched: the next operation to start is cancelled at once
    impl_->cancel_pending = true;
    return;
  }
  impl_->cancel_token.request();
  if (impl_->loop) impl_->loop->cancel(impl_->operation);
}

std::string version_text() {
  return "sxengine " SX_VERSION "\n" + net::library_versions() + "\n" + codec::library_versions() + "\n";
}

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
