// Tests engine/stripe/host_guard.cc: two failures in a row (refused, timed out) set
// a host aside and its requests then fail at once, without reaching it; a
// 404 or a corrupt body does not count (the host answered); a success
// resets the count; other hosts are not affected.
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "engine/stripe/host_guard.h"

using namespace sx;

namespace {

// Answers by host: an error code per origin, or a 1-byte body.
class ScriptedBackend final : public net::Backend {
 public:
  std::map<std::string, Errc> failing;  // origin → error
  std::map<std::string, int> asked;     // origin → GETs that reached it
  void put(const std::string&, std::span<const std::byte>, net::PutDone done) override {
    done(make_error(Errc::kInvalidArgument, "read-only"));
  }
  void get(const std::string& key, std::span<std::byte>, net::GetDone done) override {
    const std::string origin = key.substr(0, key.find('/', 8));
    ++asked[origin];
    auto it = failing.find(origin);
    if (it != failing.end()) return done(make_error(it->second, "scripted"));
    done(std::size_t{1});
  }
  void get_whole(const std::string& key, std::size_t, net::WholeDone done) override {
    get(key, {}, [&](Result<std::size_t> r) {
      if (!r) return done(std::move(r).error());
      done(std::vector<std::byte>(1));
    });
  }
  bool synchronous() const override { return true; }
  std::string describe() const override { return "scripted"; }
};

Errc get(engine::HostGuard& guard, const std::string& url) {
  Errc code = Errc::kInvalidArgument;
  bool ok = false;
  guard.get(url, {}, [&](Result<std::size_t> r) {
    ok = bool(r);
    if (!r) code = r.error().code;
  });
  return ok ? Errc::kInvalidArgument : code;  // kInvalidArgument stands for success here
}

}  // namespace

TEST_CASE("host guard: a host failing twice in a row is set aside; answers and successes do not count") {
  ScriptedBackend inner;
  engine::HostGuard guard(inner);
  inner.failing["http://dead:1"] = Errc::kTransient;
  inner.failing["http://gone:1"] = Errc::kNotFound;
  CHECK(get(guard, "http://dead:1/p/a.png") == Errc::kTransient);
  CHECK(guard.set_aside().empty());
  CHECK(get(guard, "http://dead:1/p/b.png") == Errc::kTransient);
  REQUIRE(guard.set_aside() == std::vector<std::string>{"http://dead:1"});
  for (int i = 0; i < 10; ++i) CHECK(get(guard, "http://dead:1/p/c.png") == Errc::kTransient);
  CHECK(inner.asked["http://dead:1"] == 2);  // set aside: not asked again
  for (int i = 0; i < 5; ++i) CHECK(get(guard, "http://gone:1/p/x.png") == Errc::kNotFound);
  CHECK(inner.asked["http://gone:1"] == 5);  // 404s: the host answered
  // One failure, then a success: the count starts again.
  inner.failing["http://blip:1"] = Errc::kIo;
  CHECK(get(guard, "http://blip:1/a") == Errc::kIo);
  inner.failing.erase("http://blip:1");
  CHECK(get(guard, "http://blip:1/b") == Errc::kInvalidArgument);
  inner.failing["http://blip:1"] = Errc::kIo;
  CHECK(get(guard, "http://blip:1/c") == Errc::kIo);
  CHECK(guard.set_aside().size() == 1);
  CHECK(get(guard, "http://fine:1/p/a.png") == Errc::kInvalidArgument);
}
