#include "net/backend.h"

#include "net/backend_http.h"
#include "net/backend_image_host.h"
#include "net/backend_local.h"
#include "net/backend_s3.h"

namespace sx::net {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// A key fetched unsigned that the server refuses may be a private S3 object:
// the message says how to reach it instead of a bare 403.
class DenialHint final : public Backend {
 public:
  explicit DenialHint(std::unique_ptr<Backend> inner) : inner_(std::move(inner)) {}
  void put(const std::string& name, std::span<const std::byte> bytes, PutDone done) override {
    inner_->put(name, bytes, std::move(done));
  }
  void put_replacing(const std::string& name, std::span<const std::byte> bytes, PutDone done) override {
    inner_->put_replacing(name, bytes, std::move(done));
  }
  void get(const std::string& key, std::span<std::byte> into, GetDone done) override {
    inner_->get(key, into, [done = std::move(done)](Result<std::size_t> r) {
      if (!r) return done(hint(std::move(r).error()));
      done(std::move(r));
    });
  }
  void get_streaming(const std::string& key, std::span<std::byte> into, BodySink& sink, GetDone done) override {
    inner_->get_streaming(key, into, sink, [done = std::move(done)](Result<std::size_t> r) {
      if (!r) return done(hint(std::move(r).error()));
      done(std::move(r));
    });
  }
  void get_whole(const std::string& key, std::size_t max_bytes, WholeDone done) override {
    inner_->get_whole(key, max_bytes, [done = std::move(done)](Result<std::vector<std::byte>> r) {
      if (!r) return done(hint(std::move(r).error()));
      done(std::move(r));
    });
  }
  void remove(const std::string& key, RemoveDone done) override { inner_->remove(key, std::move(done)); }
  bool synchronous() const override { return inner_->synchronous(); }
  std::string describe() const override { return inner_->describe(); }

 private:
  static Error hint(Error e) {
    if (e.code == Errc::kDenied && (e.message.find("HTTP 403") != std::string::npos ||
                                    e.message.find("HTTP 401") != std::string::npos))
      e.message += "; if this is a private S3 object, name its endpoint with --endpoint or AWS_ENDPOINT_URL "
                   "(and give credentials), or push with --acl public-read";
    return e;
  }
  std::unique_ptr<Backend> inner_;
};

std::unique_ptr<Backend> make_denial_hint(std::unique_ptr<Backend> inner) {
  return std::make_unique<DenialHint>(std::move(inner));
}

}  // namespace

Result<std::unique_ptr<Backend>> open_backend(std::string_view uri, const BackendOptions& options,
                                              const LoopProvider& loop) {
  if (uri.empty()) return make_local_backend(default_store_dir(), options.check_body);
  if (starts_with(uri, "dir:")) {
    const std::string_view path = uri.substr(4);
    if (path.empty()) return make_error(Errc::kInvalidArgument, "dir: backend needs a path");
    std::error_code ec;  // absolute() throws without it (a deleted working directory)
    auto absolute = std::filesystem::absolute(std::string(path), ec);
    if (ec) return make_error(Errc::kIo, "cannot resolve " + std::string(path) + ": " + ec.message());
    return make_local_backend(std::move(absolute), options.check_body);
  }
  if (starts_with(uri, "file://")) {
    auto path = path_of_file_url(uri);
    if (!path) return std::move(path).error();
    return make_local_backend(*path, options.check_body);
  }
  if (starts_with(uri, "http://") || starts_with(uri, "https://")) {
    auto l = loop();
    if (!l) return std::move(l).error();
    return make_http_backend(**l, std::string(uri), options);
  }
  if (starts_with(uri, "s3://")) {
    auto location = parse_s3_uri(uri);
    if (!location) return std::move(location).error();
    S3Config config = load_s3_config(options.endpoint);
    if (options.explicit_cacert) config.ca_bundle.clear();
    if (!config.credentials)
      return make_error(Errc::kDenied, "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                                       "or a profile in ~/.aws/credentials");
    auto l = loop();
    if (!l) return std::move(l).error();
    return make_s3_backend(**l, std::move(config), std::move(location->first), std::move(location->second),
                           S3BackendOptions{options.acl, options.sign_payload}, options);
  }
  if (starts_with(uri, "host:") || starts_with(uri, "sxcu:")) {
    auto profile = load_host_profile(uri);
    if (!profile) return std::move(profile).error();
    auto l = loop();
    if (!l) return std::move(l).error();
    return make_image_host_backend(**l, std::move(*profile), options);
  }
  return make_error(Errc::kInvalidArgument,
                    "unknown backend \"" + std::string(uri.substr(0, 200)) +
                        "\": use dir:PATH, file:///PATH, http(s)://HOST/PREFIX/, s3://BUCKET/PREFIX, "
                        "host:NAME or sxcu:PATH");
}

Result<std::unique_ptr<Backend>> backend_for_key(std::string_view key, const BackendOptions& options,
                                                 const LoopProvider& loop) {
  if (starts_with(key, "file://")) return make_local_backend("/", options.check_body);
  if (starts_with(key, "http://") || starts_with(key, "https://")) {
    auto l = loop();
    if (!l) return std::move(l).error();
    S3Config config = load_s3_config(options.endpoint);
    if (options.explicit_cacert) config.ca_bundle.clear();
    // Signed only for the endpoint the user named: credentials never go to another host.
    if (options.sign_keys && config.credentials && config.serves(key))
      return make_s3_reader(**l, std::move(config), options);
    return make_denial_hint(make_http_backend(**l, "", options));
  }
  return make_error(Errc::kInvalidArgument,
                    "not a download key: \"" + std::string(key.substr(0, 200)) +
                        "\" (expected a file:// or http(s):// URL)");
}

}  // namespace sx::net
