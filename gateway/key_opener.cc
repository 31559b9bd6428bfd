#include "gateway/key_opener.h"

namespace sx::gateway {
namespace {

// Marks a refusal by policy, told apart from the engine's kDenied below.
constexpr std::string_view kPolicy = "refused by this gateway: ";

}  // namespace

Result<std::shared_ptr<const OpenedFile>> KeyOpener::open(std::string_view key_text) {
  if (key_text.empty()) return make_error(Errc::kInvalidArgument, "missing ?key=KEY (the download key, percent-encoded)");
  if (key_text.size() > kMaxKeyBytes) return make_error(Errc::kInvalidArgument, "the key is too long");
  for (char c : key_text)
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f)
      return make_error(Errc::kInvalidArgument, "the key holds a space or control character");
  auto key = engine::PieceSource::parse_key(key_text);
  if (!key) return std::move(key).error();
  if (auto cached = manifests_.find(key->id())) return cached;
  auto file = fetcher_.open(*key);
  if (!file) return std::move(file).error();
  manifests_.insert(*file);
  return file;
}

HttpFailure http_failure(const Error& error) {
  const std::string reason = scrub_secrets(error.message);
  switch (error.code) {
    case Errc::kInvalidArgument: return {400, reason};
    case Errc::kNotFound: return {404, reason};
    case Errc::kDenied:
      // The client's key (none, a passphrase key) or this gateway's policy:
      // 403. Otherwise the backend refused the gateway (401/403, a TLS
      // certificate): the gateway's problem, 502.
      if (reason.find("no key was given") != std::string::npos || reason.find("passphrase") != std::string::npos ||
          reason.find(kPolicy) != std::string::npos || reason.find("--allow-private-addresses") != std::string::npos ||
          reason.find("names a local file") != std::string::npos)
        return {403, reason};
      return {502, "the backend refused the gateway: " + reason};
    case Errc::kCorrupt:
      // An AEAD tag that does not open is the wrong content key far more
      // often than an altered piece: the client's key is what to fix.
      if (reason.find("decryption failed") != std::string::npos || reason.find("encrypted") != std::string::npos)
        return {403, "wrong content key (the #k= fragment) or altered data: " + reason};
      return {502, reason};
    case Errc::kCancelled: return {503, reason};
    case Errc::kIo:
    case Errc::kTransient:
    case Errc::kLimit: return {502, reason};
  }
  return {500, reason};
}

std::string scrub_secrets(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const std::string_view rest = text.substr(i);
    std::size_t marker = 0;
    if (rest.size() >= 3 && rest[0] == '#' && (rest[1] == 'k' || rest[1] == 's') && rest[2] == '=') marker = 3;
    else if (rest.size() >= 4 && (rest.substr(0, 3) == "%23") && (rest[3] == 'k' || rest[3] == 's' || rest[3] == 'K' || rest[3] == 'S'))
      marker = 4;
    if (marker == 0) {
      out.push_back(text[i++]);
      continue;
    }
    out += "#…";
    i += marker;
    while (i < text.size() && text[i] != ' ' && text[i] != '"' && text[i] != '\'' && text[i] != '&') ++i;
  }
  return out;
}

}  // namespace sx::gateway
