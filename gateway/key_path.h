// The path form of a key (docs/GATEWAY.md §The path form), for clients that
// cannot keep a query string: rclone's http backend, `wget -r`, links in a
// page. `/k/<KEY as base64url>/` is the key's directory listing and
// `/k/<KEY>/<path>` one of its files. base64url because a key is itself a URL
// whose '/', '#' and '%' would be decoded, split or re-encoded on the way;
// the alphabet (A-Z a-z 0-9 - _) passes every client untouched. Pure.
#pragma once

#include <string>
#include <string_view>

#include "sx/error.h"

namespace sx::gateway {

inline constexpr std::string_view kKeyPathPrefix = "/k/";

struct KeyPath {
  std::string key;        // the key's text
  std::string rest;       // the path in the key, without the leading and trailing '/' ("" the root)
  bool directory = true;  // the request ended in '/'
};

// `path` is a request's decoded path starting with kKeyPathPrefix.
// kInvalidArgument when the key part is empty, longer than a key may be, or
// not base64url; "." and ".." components are left to the lookup (no entry
// of a tree has them, so they find nothing).
Result<KeyPath> parse_key_path(std::string_view path);

// "/k/<base64url of key>/".
std::string key_path(std::string_view key);

// `path` with the key part replaced by "…" (the key's content key must
// not reach a log); any other path unchanged.
std::string redact_key_path(std::string_view path);

}  // namespace sx::gateway
