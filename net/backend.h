// Where pieces live. A backend stores opaque objects (PNG bytes) and hands
// back keys that are URLs; it knows nothing of pieces or manifests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/http.h"
#include "sx/error.h"

namespace sx::net {

class EventLoop;

using PutDone = std::function<void(Result<std::string>)>;  // the key (a URL)
using GetDone = std::function<void(Result<std::size_t>)>;  // bytes written to `into`
using WholeDone = std::function<void(Result<std::vector<std::byte>>)>;
using RemoveDone = std::function<void(Status)>;

struct ObjectLimits {
  std::size_t max_bytes = 0;  // 0: no limit
  std::uint32_t max_width = 0;
  std::uint32_t max_height = 0;
};

// Settings backends take from the command line.
struct BackendOptions {
  std::string endpoint;       // S3 endpoint URL (else AWS_ENDPOINT_URL)
  std::string acl;            // S3 canned ACL for pushed objects ("public-read")
  bool sign_payload = false;  // S3: sign the body's SHA-256 instead of UNSIGNED-PAYLOAD
  // --cacert was given: it wins over the S3 endpoint's AWS_CA_BUNDLE.
  bool explicit_cacert = false;
  // Per operation: every request carries it, so the operation cancels alone.
  OperationId operation = 0;
  // Judges the head of every object fetched (engine: "a PNG within limits").
  BodyCheck check_body;
  // GETs retry at most this often (-1: --retries): pulls of parity keys.
  int max_retries = -1;
  // backend_for_key may sign GETs on the configured S3 endpoint: only for a
  // key with a manifest copy there (engine::KeyPolicy::may_sign).
  bool sign_keys = true;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // Stores `bytes` (alive until `done` runs) under `name`, a content-derived
  // "<hex>.png". `done` runs once, on any thread, maybe before put returns.
  virtual void put(const std::string& name, std::span<const std::byte> bytes, PutDone done) = 0;
  // put, for repair: puts an object back where a key already names it. A
  // backend that counts references (the local store) counts none more.
  virtual void put_replacing(const std::string& name, std::span<const std::byte> bytes, PutDone done) {
    put(name, bytes, std::move(done));
  }
  // Fetches `key` into `into`; an object larger than `into` fails with kLimit.
  virtual void get(const std::string& key, std::span<std::byte> into, GetDone done) = 0;
  // get, offering the body to `sink` as it arrives (net/http.h BodySink);
  // what the sink declines, and every body of a backend that cannot stream,
  // lands in `into` as with get.
  virtual void get_streaming(const std::string& key, std::span<std::byte> into, BodySink& sink, GetDone done) {
    (void)sink;
    get(key, into, std::move(done));
  }
  // Fetches a whole object of unknown size, at most `max_bytes` (manifests).
  virtual void get_whole(const std::string& key, std::size_t max_bytes, WholeDone done) = 0;
  // Deletes `key`; `done` gets kNotFound when it is already gone. Backends
  // that cannot delete (image hosts) fail with kInvalidArgument, saying so.
  virtual void remove(const std::string& key, RemoveDone done) {
    done(make_error(Errc::kInvalidArgument, describe() + " cannot delete objects: " + key + " stays"));
  }
  // True when put/get run inline on the caller's thread (the local store):
  // then more requests in flight than workers buy nothing.
  virtual bool synchronous() const = 0;
  // What the backend accepts; push sizes pieces to fit.
  virtual ObjectLimits limits() const { return {}; }
  virtual std::string describe() const = 0;
};

// Gives the event loop, creating it on first use (only network backends ask).
using LoopProvider = std::function<Result<EventLoop*>()>;

// Opens the backend a push stores into: "" (the default local store),
// "dir:PATH", "file:///PATH", "http(s)://HOST/PREFIX/", "s3://BUCKET/PREFIX",
// "host:NAME", "host:{…}", "sxcu:PATH". `loop` is asked for only by backends
// that need the network.
Result<std::unique_ptr<Backend>> open_backend(std::string_view uri, const BackendOptions& options,
                                              const LoopProvider& loop);

// The backend that can GET `key` with no configuration: file:// or http(s)://
// (signed when it is on the configured S3 endpoint and credentials exist).
Result<std::unique_ptr<Backend>> backend_for_key(std::string_view key, const BackendOptions& options,
                                                 const LoopProvider& loop);

}  // namespace sx::net
