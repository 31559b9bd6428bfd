// The headers that describe a stored file to a browser or download manager:
// Content-Type from the stored name, a Content-Disposition that is safe
// whatever the name holds, and an ETag from the file's digest. Pure.
#pragma once

#include <string>
#include <string_view>

#include "codec/manifest.h"

namespace sx::gateway {

// By the name's extension (a short table of common types); else
// application/octet-stream.
std::string content_type(std::string_view name);

// The name with every byte a header or a file system would misread replaced
// by '_' (controls, quotes, backslash, slash, DEL), at most 200 bytes; "file"
// when nothing is left.
std::string sanitize_name(std::string_view name);

// `inline; filename="ascii-only"; filename*=UTF-8''percent-encoded` (RFC 6266).
std::string content_disposition(std::string_view name);

// A strong validator: the file's SHA-256 (or SHA-256 tree) when the manifest
// records it, else a digest of the manifest URL (keys name content: a
// manifest under a URL never changes).
// A file of a tree (`entry_path`): that tag with a digest of its path.
std::string etag(const codec::Manifest& manifest, std::string_view url, std::string_view entry_path = {});

}  // namespace sx::gateway
