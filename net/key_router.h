// The backend a key operation reads through when its pieces may live on
// several hosts (a striped push: any mix of dir, HTTP, S3): each object goes
// to the backend backend_for_key opens for its URL's scheme and authority,
// opened on first use and kept for the operation.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "net/backend.h"

namespace sx::net {

class KeyRouter final : public Backend {
 public:
  KeyRouter(BackendOptions options, LoopProvider loop) : options_(std::move(options)), loop_(std::move(loop)) {}

  // Caps the retries of every GET from now on (-1: --retries); backends
  // opened before are dropped (call it between fetches, none in flight).
  void limit_retries(int max_retries);

  void put(const std::string& name, std::span<const std::byte> bytes, PutDone done) override;
  void get(const std::string& key, std::span<std::byte> into, GetDone done) override;
  void get_streaming(const std::string& key, std::span<std::byte> into, BodySink& sink, GetDone done) override;
  void get_whole(const std::string& key, std::size_t max_bytes, WholeDone done) override;
  void remove(const std::string& key, RemoveDone done) override;
  // As the first backend opened: a mix of the local store and the network
  // counts as asynchronous (the local store completes inline either way).
  bool synchronous() const override;
  std::string describe() const override;

  // The backend for `key` (opened now if need be), or why not.
  Result<Backend*> route(const std::string& key);

 private:
  BackendOptions options_;
  LoopProvider loop_;
  mutable std::mutex mutex_;  // guards routes_, retired_
  std::vector<std::pair<std::string, std::unique_ptr<Backend>>> routes_;  // by "scheme://authority"
  std::vector<std::unique_ptr<Backend>> retired_;  // dropped by limit_retries, kept alive for late callbacks
};

// "scheme://authority" of a URL ("file://" for local keys).
std::string url_origin(std::string_view url);

}  // namespace sx::net
