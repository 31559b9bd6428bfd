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

}  // namespace

Result<std::unique_ptr<Backend>> open_backend(std::string_view uri, const BackendOptions& options,
                                              const std::function<EventLoop&()>& loop) {
  if (uri.empty()) return make_local_backend(default_store_dir());
  if (starts_with(uri, "dir:")) {
    const std::string_view path = uri.substr(4);
    if (path.empty()) return make_error(Errc::kInvalidArgument, "dir: backend needs a path");
    return make_local_backend(std::filesystem::absolute(std::string(path)));
  }
  if (starts_with(uri, "file://")) {
    auto path = path_of_file_url(uri);
    if (!path) return std::move(path).error();
    return make_local_backend(*path);
  }
  if (starts_with(uri, "http://") || starts_with(uri, "https://"))
    return make_http_backend(loop(), std::string(uri));
  if (starts_with(uri, "s3://")) {
    auto location = parse_s3_uri(uri);
    if (!location) return std::move(location).error();
    S3Config config = load_s3_config(options.endpoint);
    if (!config.credentials)
      return make_error(Errc::kDenied, "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                                       "or a profile in ~/.aws/credentials");
    return make_s3_backend(loop(), std::move(config), std::move(location->first), std::move(location->second),
                           S3BackendOptions{options.acl, options.sign_payload});
  }
  if (starts_with(uri, "host:") || starts_with(uri, "sxcu:")) {
    auto profile = load_host_profile(uri);
    if (!profile) return std::move(profile).error();
    return make_image_host_backend(loop(), std::move(*profile));
  }
  return make_error(Errc::kInvalidArgument,
                    "unknown backend \"" + std::string(uri.substr(0, 200)) +
                        "\": use dir:PATH, file:///PATH, http(s)://HOST/PREFIX/, s3://BUCKET/PREFIX, "
                        "host:NAME or sxcu:PATH");
}

Result<std::unique_ptr<Backend>> backend_for_key(std::string_view key, const BackendOptions& options,
                                                 const std::function<EventLoop&()>& loop) {
  if (starts_with(key, "file://")) return make_local_backend("/");
  if (starts_with(key, "http://") || starts_with(key, "https://")) {
    S3Config config = load_s3_config(options.endpoint);
    if (config.credentials && config.serves(key)) return make_s3_reader(loop(), std::move(config));
    return make_http_backend(loop(), "");
  }
  return make_error(Errc::kInvalidArgument,
                    "not a download key: \"" + std::string(key.substr(0, 200)) +
                        "\" (expected a file:// or http(s):// URL)");
}

}  // namespace sx::net
