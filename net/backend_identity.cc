#include "net/backend_identity.h"

#include <filesystem>

#include "net/backend_local.h"
#include "net/s3_config.h"

namespace sx::net {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

std::string real_directory(const std::filesystem::path& path) {
  std::error_code ec;
  auto absolute = std::filesystem::absolute(path, ec);
  if (ec) return "file:" + path.string();
  auto real = std::filesystem::weakly_canonical(absolute, ec);  // follows links of what exists
  std::string out = (ec ? absolute.lexically_normal() : real).string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return "file:" + out;
}

// scheme://host:port and the path prefix of an http(s) URL.
std::pair<std::string, std::string> url_parts(std::string_view url) {
  const auto scheme_end = url.find("://");
  const std::string scheme = lower(url.substr(0, scheme_end));
  std::string_view rest = url.substr(scheme_end + 3);
  const auto slash = rest.find('/');
  std::string authority = lower(rest.substr(0, slash));
  if (const auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  const bool has_port = authority.rfind(':') != std::string::npos && authority.back() != ']';
  if (!has_port) authority += scheme == "https" ? ":443" : ":80";
  std::string path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  path = path.substr(0, path.find_first_of("?#"));
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return {scheme + "://" + authority, path};
}

}  // namespace

std::string backend_identity(std::string_view uri, std::string_view s3_endpoint) {
  if (uri.empty()) return real_directory(default_store_dir());
  if (starts_with(uri, "dir:")) return real_directory(std::string(uri.substr(4)));
  if (starts_with(uri, "file://")) {
    auto path = path_of_file_url(uri);
    return path ? real_directory(*path) : std::string(uri);
  }
  const std::string scheme = lower(uri.substr(0, uri.find("://")));
  if (scheme == "http" || scheme == "https") {
    auto [origin, path] = url_parts(uri);
    return origin + path;
  }
  if (starts_with(uri, "s3://")) {
    std::string_view rest = uri.substr(5);
    std::string bucket_and_prefix(rest);
    while (bucket_and_prefix.size() > 1 && bucket_and_prefix.back() == '/') bucket_and_prefix.pop_back();
    return "s3:" + backend_host(uri, s3_endpoint) + "/" + bucket_and_prefix;
  }
  return std::string(uri);
}

std::string backend_host(std::string_view uri, std::string_view s3_endpoint) {
  if (uri.empty() || starts_with(uri, "dir:") || starts_with(uri, "file://")) return "file:";
  const std::string scheme = lower(uri.substr(0, uri.find("://")));
  if (scheme == "http" || scheme == "https") return url_parts(uri).first;
  if (starts_with(uri, "s3://")) {
    const S3Config config = load_s3_config(s3_endpoint);
    return config.endpoint.empty() ? std::string("aws-s3") : url_parts(config.endpoint).first;
  }
  return std::string(uri);
}

}  // namespace sx::net
