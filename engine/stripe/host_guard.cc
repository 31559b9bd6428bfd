#include "engine/stripe/host_guard.h"

#include "net/key_router.h"

namespace sx::engine {

std::string HostGuard::refused(const std::string& origin) const {
  std::lock_guard lock(mutex_);
  auto it = failures_.find(origin);
  if (it == failures_.end() || it->second < kSetAsideAfter) return {};
  return origin + " is set aside for this run (it failed " + std::to_string(kSetAsideAfter) + " times in a row)";
}

void HostGuard::record(const std::string& origin, const Status& outcome) {
  const bool host_failed = !outcome && (outcome.error().code == Errc::kTransient || outcome.error().code == Errc::kIo);
  if (!outcome && !host_failed) return;  // answered: 404, corrupt, refused access
  std::lock_guard lock(mutex_);
  int& count = failures_[origin];
  if (count >= kSetAsideAfter) return;  // set aside stays set aside
  count = host_failed ? count + 1 : 0;
}

void HostGuard::get(const std::string& key, std::span<std::byte> into, net::GetDone done) {
  std::string origin = net::url_origin(key);
  if (std::string why = refused(origin); !why.empty()) return done(make_error(Errc::kTransient, why));
  inner_.get(key, into, [this, origin = std::move(origin), done = std::move(done)](Result<std::size_t> got) {
    record(origin, got ? Status{} : Status(got.error()));
    done(std::move(got));
  });
}

void HostGuard::get_streaming(const std::string& key, std::span<std::byte> into, net::BodySink& sink,
                              net::GetDone done) {
  std::string origin = net::url_origin(key);
  if (std::string why = refused(origin); !why.empty()) return done(make_error(Errc::kTransient, why));
  inner_.get_streaming(key, into, sink, [this, origin = std::move(origin), done = std::move(done)](Result<std::size_t> got) {
    record(origin, got ? Status{} : Status(got.error()));
    done(std::move(got));
  });
}

void HostGuard::get_whole(const std::string& key, std::size_t max_bytes, net::WholeDone done) {
  std::string origin = net::url_origin(key);
  if (std::string why = refused(origin); !why.empty()) return done(make_error(Errc::kTransient, why));
  inner_.get_whole(key, max_bytes,
                   [this, origin = std::move(origin), done = std::move(done)](Result<std::vector<std::byte>> got) {
                     record(origin, got ? Status{} : Status(got.error()));
                     done(std::move(got));
                   });
}

std::vector<std::string> HostGuard::set_aside() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> hosts;
  for (const auto& [origin, count] : failures_)
    if (count >= kSetAsideAfter) hosts.push_back(origin);
  return hosts;
}

}  // namespace sx::engine
