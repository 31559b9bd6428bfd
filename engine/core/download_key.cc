#include "engine/core/download_key.h"

#include <algorithm>

namespace sx::engine {

namespace {

// Percent-encodes what would end a fragment parameter or a line: '&', '#',
// '%', controls, space and every non-ASCII byte.
std::string encode_alternate(std::string_view url) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '&' || c == '#' || c == '%') {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> decode_alternate(std::string_view text) {
  const auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int hi = i + 1 < text.size() ? digit(text[i + 1]) : -1;
    const int lo = i + 2 < text.size() ? digit(text[i + 2]) : -1;
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// A key may name at most this many manifest copies (one per backend).
constexpr std::size_t kMaxAlternates = 16;

}  // namespace

Result<DownloadKey> parse_download_key(std::string_view text) {
  DownloadKey key;
  const auto hash = text.find('#');
  key.url = std::string(text.substr(0, hash));
  if (hash == std::string_view::npos) return key;
  std::string_view fragment = text.substr(hash + 1);
  // "&m=…" parameters after the key's own (or alone, unencrypted: "#m=…").
  for (;;) {
    const std::size_t at = fragment.rfind('&');
    const std::string_view part = at == std::string_view::npos ? fragment : fragment.substr(at + 1);
    if (part.substr(0, 2) != "m=") break;
    auto url = decode_alternate(part.substr(2));
    if (!url || url->empty() || key.alternates.size() >= kMaxAlternates)
      return make_error(Errc::kInvalidArgument, "the download key's &m= part is damaged (or names more than " +
                                                    std::to_string(kMaxAlternates) + " manifest copies)");
    key.alternates.insert(key.alternates.begin(), std::move(*url));
    if (at == std::string_view::npos) return key;
    fragment = fragment.substr(0, at);
  }
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
  std::string text = key.url;
  if (key.key) text += "#k=" + codec::base64url(*key.key);
  else if (key.salt) text += "#s=" + codec::base64url(*key.salt);
  for (std::size_t i = 0; i < key.alternates.size(); ++i)
    text += (i == 0 && !key.key && !key.salt ? "#m=" : "&m=") + encode_alternate(key.alternates[i]);
  return text;
}

DownloadKey new_download_key(const Options& options) {
  DownloadKey key;
  if (options.encrypt) {
    if (options.passphrase.empty()) key.key = codec::random_key();
    else key.salt = codec::random_salt();
  }
  return key;
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
