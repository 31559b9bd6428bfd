#include "gateway/key_path.h"

#include <span>

#include "codec/piece_crypto.h"
#include "gateway/key_opener.h"

namespace sx::gateway {

Result<KeyPath> parse_key_path(std::string_view path) {
  std::string_view rest = path.substr(kKeyPathPrefix.size());
  const std::size_t slash = rest.find('/');
  const std::string_view encoded = rest.substr(0, slash);
  // base64url grows a key by 4/3: refused before anything is decoded.
  if (encoded.empty()) return make_error(Errc::kInvalidArgument, "missing key: /k/KEY/ (the key in base64url, see sxengine url)");
  if (encoded.size() > kMaxKeyBytes / 3 * 4 + 4) return make_error(Errc::kInvalidArgument, "the key is too long");
  auto bytes = codec::from_base64url(encoded);
  if (!bytes) return make_error(Errc::kInvalidArgument, "the key in /k/KEY/ is not base64url (sxengine url KEY prints it)");
  KeyPath out;
  out.key.assign(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  // "/k/KEY" without its '/' is the root asked for as a file: redirected,
  // so that the listing's relative links resolve under the key.
  out.directory = slash != std::string_view::npos && (rest.size() == slash + 1 || rest.back() == '/');
  rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  out.rest = std::string(rest);
  return out;
}

std::string key_path(std::string_view key) {
  return std::string(kKeyPathPrefix) +
         codec::base64url(std::span(reinterpret_cast<const std::uint8_t*>(key.data()), key.size())) + "/";
}

std::string redact_key_path(std::string_view path) {
  if (path.substr(0, kKeyPathPrefix.size()) != kKeyPathPrefix) return std::string(path);
  const std::size_t slash = path.find('/', kKeyPathPrefix.size());
  return std::string(kKeyPathPrefix) + "…" + (slash == std::string_view::npos ? "" : std::string(path.substr(slash)));
}

}  // namespace sx::gateway
