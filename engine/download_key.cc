#include "engine/download_key.h"

#include <algorithm>

namespace sx::engine {

Result<DownloadKey> parse_download_key(std::string_view text) {
  DownloadKey key;
  const auto hash = text.find('#');
  key.url = std::string(text.substr(0, hash));
  if (hash == std::string_view::npos) return key;
  const std::string_view fragment = text.substr(hash + 1);
  auto decode = [&](std::string_view value, std::size_t bytes, auto& out) -> Status {
    auto raw = codec::from_base64url(value);
    if (!raw || raw->size() != bytes)
      return make_error(Errc::kInvalidArgument, "the download key's #" + std::string(fragment.substr(0, 1)) +
                                                    "= fragment is damaged (wrong length or characters)");
    out.emplace();
    std::copy(raw->begin(), raw->end(), out->begin());
    return {};
  };
  Status status;
  if (fragment.substr(0, 2) == "k=") status = decode(fragment.substr(2), codec::kKeyBytes, key.key);
  else if (fragment.substr(0, 2) == "s=") status = decode(fragment.substr(2), codec::kSaltBytes, key.salt);
  else return make_error(Errc::kInvalidArgument, "the download key has an unknown #fragment");
  if (!status) return std::move(status).error();
  return key;
}

std::string format_download_key(const DownloadKey& key) {
  if (key.key) return key.url + "#k=" + codec::base64url(*key.key);
  if (key.salt) return key.url + "#s=" + codec::base64url(*key.salt);
  return key.url;
}

Result<std::optional<codec::ContentKey>> resolve_content_key(const DownloadKey& key, std::string_view passphrase) {
  if (key.key) return std::optional<codec::ContentKey>(*key.key);
  if (!key.salt) return std::optional<codec::ContentKey>();
  if (passphrase.empty())
    return make_error(Errc::kDenied, "this key needs the passphrase it was pushed with (--passphrase or "
                                     "SXENGINE_PASSPHRASE)");
  auto derived = codec::derive_key(passphrase, *key.salt);
  if (!derived) return std::move(derived).error();
  return std::optional<codec::ContentKey>(*derived);
}

}  // namespace sx::engine
