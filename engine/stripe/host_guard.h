// Reading a striped key with a host gone: a host whose requests fail
// (refused, timed out after their retries) twice in a row is set aside for
// the rest of the run, and its pieces fail at once (kTransient) so that they
// are rebuilt from their stripes instead of each waiting on the dead host.
// A 404 or a corrupt body does not count: the host answered.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "net/backend.h"

namespace sx::engine {

class HostGuard final : public net::Backend {
 public:
  // Failures in a row that set a host aside.
  static constexpr int kSetAsideAfter = 2;
  // Retries per GET when a lost piece can be rebuilt (the manifest copies of
  // a striped key, its pieces): a dead host costs well under a second, not
  // the full --retries back-off, before the stripe takes over.
  static constexpr int kRetriesWithParity = 2;

  explicit HostGuard(net::Backend& inner) : inner_(inner) {}

  void put(const std::string& name, std::span<const std::byte> bytes, net::PutDone done) override {
    inner_.put(name, bytes, std::move(done));
  }
  void put_replacing(const std::string& name, std::span<const std::byte> bytes, net::PutDone done) override {
    inner_.put_replacing(name, bytes, std::move(done));
  }
  void get(const std::string& key, std::span<std::byte> into, net::GetDone done) override;
  void get_streaming(const std::string& key, std::span<std::byte> into, net::BodySink& sink,
                     net::GetDone done) override;
  void get_whole(const std::string& key, std::size_t max_bytes, net::WholeDone done) override;
  void remove(const std::string& key, net::RemoveDone done) override { inner_.remove(key, std::move(done)); }
  bool synchronous() const override { return inner_.synchronous(); }
  std::string describe() const override { return inner_.describe(); }

  // The hosts set aside so far ("scheme://authority").
  std::vector<std::string> set_aside() const;

 private:
  // Empty when the host may be asked; else why not.
  std::string refused(const std::string& origin) const;
  void record(const std::string& origin, const Status& outcome);

  net::Backend& inner_;
  mutable std::mutex mutex_;  // guards failures_
  std::map<std::string, int> failures_;  // by origin: failures in a row (kSetAsideAfter: set aside)
};

}  // namespace sx::engine
