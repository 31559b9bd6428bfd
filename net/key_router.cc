#include "net/key_router.h"

namespace sx::net {

std::string url_origin(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url.substr(0, 64));
  const std::size_t end = url.find('/', scheme + 3);
  return std::string(url.substr(0, end));
}

void KeyRouter::limit_retries(int max_retries) {
  std::lock_guard lock(mutex_);
  if (options_.max_retries == max_retries) return;
  options_.max_retries = max_retries;
  for (auto& [origin, backend] : routes_) retired_.push_back(std::move(backend));
  routes_.clear();
}

Result<Backend*> KeyRouter::route(const std::string& key) {
  const std::string origin = url_origin(key);
  std::lock_guard lock(mutex_);
  for (auto& [o, backend] : routes_)
    if (o == origin) return backend.get();
  auto opened = backend_for_key(key, options_, loop_);
  if (!opened) return std::move(opened).error();
  routes_.emplace_back(origin, std::move(*opened));
  return routes_.back().second.get();
}

void KeyRouter::put(const std::string& name, std::span<const std::byte>, PutDone done) {
  done(make_error(Errc::kInvalidArgument, "cannot store " + name + ": a key's backends are read-only here"));
}

void KeyRouter::get(const std::string& key, std::span<std::byte> into, GetDone done) {
  auto backend = route(key);
  if (!backend) return done(std::move(backend).error());
  (*backend)->get(key, into, std::move(done));
}

void KeyRouter::get_streaming(const std::string& key, std::span<std::byte> into, BodySink& sink, GetDone done) {
  auto backend = route(key);
  if (!backend) return done(std::move(backend).error());
  (*backend)->get_streaming(key, into, sink, std::move(done));
}

void KeyRouter::get_whole(const std::string& key, std::size_t max_bytes, WholeDone done) {
  auto backend = route(key);
  if (!backend) return done(std::move(backend).error());
  (*backend)->get_whole(key, max_bytes, std::move(done));
}

void KeyRouter::remove(const std::string& key, RemoveDone done) {
  auto backend = route(key);
  if (!backend) return done(std::move(backend).error());
  (*backend)->remove(key, std::move(done));
}

bool KeyRouter::synchronous() const {
  std::lock_guard lock(mutex_);
  for (const auto& [origin, backend] : routes_)
    if (!backend->synchronous()) return false;
  return !routes_.empty();
}

std::string KeyRouter::describe() const {
  std::lock_guard lock(mutex_);
  std::string text;
  for (const auto& [origin, backend] : routes_) text += (text.empty() ? "" : ", ") + backend->describe();
  return text.empty() ? "no backend yet" : text;
}

}  // namespace sx::net
