// What makes two --backend URIs the same place, so that a striped push never
// counts one disk or bucket twice: `dir:/x`, `dir:/x/`, `dir:/x/../x` and
// `file:///x` are one directory (its real path); URLs compare by scheme,
// host, port and path prefix (case-insensitive scheme and host, default
// ports made explicit, one trailing '/'); `s3://BUCKET/PREFIX` by endpoint,
// bucket and prefix. Host profiles compare as written.
#pragma once

#include <string>
#include <string_view>

namespace sx::net {

// The canonical identity of a backend URI ("" is the default local store).
std::string backend_identity(std::string_view uri, std::string_view s3_endpoint);

// The machine or service behind it ("file:" for local directories,
// "http://host:port" for URLs, the endpoint's for S3), to warn when two
// backends of a stripe share one.
std::string backend_host(std::string_view uri, std::string_view s3_endpoint);

}  // namespace sx::net
