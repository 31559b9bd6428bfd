// A download key is the manifest's URL plus, for encrypted files, a fragment
// that never reaches a server: "#k=<base64url content key>" or, for a
// passphrase, "#s=<base64url Argon2id salt>" (docs/FORMAT.md §Keys).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec/piece_crypto.h"
#include "sx/error.h"
#include "sx/options.h"

namespace sx::engine {

struct DownloadKey {
  std::string url;  // what is fetched and what messages may show
  std::optional<codec::ContentKey> key;
  std::optional<codec::Salt> salt;
  // Further copies of the root manifest piece (parity pushes store one on
  // every backend): tried in order when `url` fails. In the fragment as
  // "&m=<percent-encoded URL>" each, so no server sees them.
  std::vector<std::string> alternates;
};

Result<DownloadKey> parse_download_key(std::string_view text);
std::string format_download_key(const DownloadKey& key);

// A push's key before its URL is known: a random content key, or a salt for
// the passphrase, or neither (--no-encrypt).
DownloadKey new_download_key(const Options& options);

// The content key: from the fragment, or derived from the passphrase and salt.
Result<std::optional<codec::ContentKey>> resolve_content_key(const DownloadKey& key, std::string_view passphrase);

}  // namespace sx::engine
