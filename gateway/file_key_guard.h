// A backend that refuses file:// objects before its inner one sees them: a
// gateway that serves strangers must not read its own disk for a manifest
// (or a manifest's slice or piece URLs) that names file:// objects, unless
// its operator said so (--allow-file-keys, or listening on loopback only).
#pragma once

#include <string>
#include <string_view>

#include "net/backend.h"

namespace sx::gateway {

class FileKeyGuard final : public net::Backend {
 public:
  FileKeyGuard(net::Backend& inner, bool allow_file) : inner_(inner), allow_file_(allow_file) {}

  void put(const std::string& name, std::span<const std::byte> bytes, net::PutDone done) override {
    inner_.put(name, bytes, std::move(done));
  }
  void get(const std::string& key, std::span<std::byte> into, net::GetDone done) override {
    if (refused(key)) return done(refusal());
    inner_.get(key, into, std::move(done));
  }
  void get_streaming(const std::string& key, std::span<std::byte> into, net::BodySink& sink,
                     net::GetDone done) override {
    if (refused(key)) return done(refusal());
    inner_.get_streaming(key, into, sink, std::move(done));
  }
  void get_whole(const std::string& key, std::size_t max_bytes, net::WholeDone done) override {
    if (refused(key)) return done(refusal());
    inner_.get_whole(key, max_bytes, std::move(done));
  }
  bool synchronous() const override { return inner_.synchronous(); }
  std::string describe() const override { return inner_.describe(); }

 private:
  bool refused(std::string_view key) const { return !allow_file_ && key.substr(0, 7) == "file://"; }
  static Error refusal() {
    return Error{Errc::kDenied, "refused by this gateway: file:// objects (start it with --allow-file-keys)"};
  }
  net::Backend& inner_;
  bool allow_file_;
};

}  // namespace sx::gateway
