#include "engine/keys/key_policy.h"

#include <filesystem>

#include "net/address_class.h"
#include "net/backend_local.h"
#include "net/s3_config.h"

namespace sx::engine {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }
bool is_http(std::string_view url) { return starts_with(url, "http://") || starts_with(url, "https://"); }

// A file:// URL's path, made lexically normal ("a/../b" → "b"): what the
// local store would open. "" when it is not a usable file:// URL.
std::string normal_path(std::string_view url) {
  auto path = net::path_of_file_url(url);
  if (!path) return {};
  return path->lexically_normal().string();
}

std::string shown(std::string_view url) { return std::string(url.substr(0, 300)); }

}  // namespace

bool is_sxengine_object_name(std::string_view name) {
  if (name.size() != 36 || name.substr(32) != ".png") return false;
  for (const char c : name.substr(0, 32))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Result<KeyPolicy> KeyPolicy::for_key(const std::vector<std::string>& manifest_urls, const KeyPolicyOptions& options) {
  KeyPolicy policy;
  bool any_internal = false;
  const net::S3Config s3 = net::load_s3_config(options.s3_endpoint);
  for (const std::string& url : manifest_urls) {
    if (starts_with(url, "file://")) {
      if (!options.allow_file)
        return make_error(Errc::kDenied, "refused by this gateway: file:// keys (start it with --allow-file-keys)");
      const std::string path = normal_path(url);
      if (path.empty()) return make_error(Errc::kInvalidArgument, "not a usable file:// key: " + shown(url));
      // ROOT/ab/NAME.png: the store root is two levels up.
      const std::filesystem::path root = std::filesystem::path(path).parent_path().parent_path();
      std::string dir = root.string();
      if (dir.empty() || dir.back() != '/') dir.push_back('/');
      policy.file_roots_.push_back(dir);
      policy.places_.push_back(dir);
      any_internal = true;
    } else if (is_http(url)) {
      policy.places_.push_back(url.substr(0, url.rfind('/') + 1));
      if (net::resolves_internal(net::url_host(url))) any_internal = true;
      if (s3.serves(url)) policy.may_sign_ = true;
    } else {
      return make_error(Errc::kInvalidArgument,
                        "not a download key: \"" + shown(url) + "\" (expected a file:// or http(s):// URL)");
    }
  }
  policy.public_only_ = options.never_internal || (!any_internal && !options.allow_internal);
  return policy;
}

KeyPolicy KeyPolicy::trusting() {
  KeyPolicy policy;
  policy.trusting_ = true;
  policy.may_sign_ = true;
  return policy;
}

Status KeyPolicy::may_read(std::string_view url, std::string_view what) const {
  if (trusting_) return {};
  if (starts_with(url, "file://")) {
    const std::string path = normal_path(url);
    for (const std::string& root : file_roots_)
      if (!path.empty() && starts_with(path, root)) return {};
    return make_error(Errc::kDenied, std::string(what) + " names a local file (" + shown(url) + ") " +
                                         (file_roots_.empty() ? "but the key is not a local one"
                                                              : "outside the store its key lives in") +
                                         ": refused");
  }
  if (!is_http(url))
    return make_error(Errc::kInvalidArgument, std::string(what) + " has a URL that is neither file:// nor http(s)://: " +
                                                  shown(url));
  if (public_only_ && net::is_internal_literal(net::url_host(url)))
    return make_error(Errc::kDenied, std::string(what) + " names an internal address (" + shown(url) +
                                         ") but its key is not on one: refused (--allow-private-addresses allows it)");
  return {};
}

Status KeyPolicy::may_change(std::string_view url) const {
  if (trusting_) return {};
  const std::string_view name = url.substr(url.rfind('/') + 1);
  if (!is_sxengine_object_name(name))
    return make_error(Errc::kDenied, shown(url) + " is not named as sxengine names its objects: left alone");
  std::string normal;
  if (starts_with(url, "file://")) {
    normal = normal_path(url);
    if (normal.empty()) return make_error(Errc::kDenied, shown(url) + " is not a usable file:// URL: left alone");
  }
  const std::string_view subject = normal.empty() ? url : std::string_view(normal);
  for (const std::string& place : places_)
    if (starts_with(subject, place) &&
        (normal.empty() ? subject.find('/', place.size()) == std::string_view::npos : true))
      return {};
  return make_error(Errc::kDenied, shown(url) + " is not where any of the key's manifest copies lives: left alone");
}

}  // namespace sx::engine
