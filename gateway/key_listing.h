// What a path under /k/KEY/ names in a key's manifest, and the HTML
// directory listing of a key's tree, in the form nginx's autoindex writes
// (rclone's http backend and `wget -r` follow its links). Pure: no I/O,
// unit-tested in test/gateway/key_listing_test.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "codec/manifest.h"

namespace sx::gateway {

struct KeyNode {
  enum class Kind { kDirectory, kFile, kMissing };
  Kind kind = Kind::kMissing;
  std::string name;            // a file's name (its last component), for the headers
  std::uint64_t offset = 0;    // a file's first byte in the key's stream
  std::uint64_t size = 0;
  std::optional<std::int64_t> mtime_ns;  // a tree's file records one
};

// `path` ("" the root, no leading or trailing '/') in `manifest`. A tree
// key: its directory and file entries (a symlink is missing: it has no
// bytes and the gateway follows nothing). A file key: the root is a
// directory holding one file, named by sanitize_name of its stored name.
KeyNode find_node(const codec::Manifest& manifest, std::string_view path);

// The listing of directory `path` (as find_node found it): "../" unless the
// root, then each child directory ("name/") and file with its date and size.
// Names are percent-encoded in links and HTML-escaped in text.
std::string listing_html(const codec::Manifest& manifest, std::string_view path);

// The part of a /-separated path after its last '/' (all of it when none).
std::string_view last_component(std::string_view path);

// "Wed, 03 Dec 2026 10:20:00 GMT" (RFC 9110 §5.6.7), for Last-Modified.
std::string http_date(std::int64_t seconds);

}  // namespace sx::gateway
