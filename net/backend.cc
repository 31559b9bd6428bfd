#include "net/backend.h"

#include "net/backend_http.h"
#include "net/backend_local.h"

namespace sx::net {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

Result<std::unique_ptr<Backend>> open_backend(std::string_view uri,
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
  return make_error(Errc::kInvalidArgument,
                    "unknown backend \"" + std::string(uri) +
                        "\": use dir:PATH, file:///PATH or http(s)://HOST/PREFIX/");
}

Result<std::unique_ptr<Backend>> backend_for_key(std::string_view key,
                                                 const std::function<EventLoop&()>& loop) {
  if (starts_with(key, "file://")) return make_local_backend("/");
  if (starts_with(key, "http://") || starts_with(key, "https://"))
    return make_http_backend(loop(), "");
  return make_error(Errc::kInvalidArgument,
                    "not a download key: \"" + std::string(key.substr(0, 200)) +
                        "\" (expected a file:// or http(s):// URL)");
}

}  // namespace sx::net
