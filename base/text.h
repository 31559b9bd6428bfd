// Leaf helpers shared by codec/, net/, engine/ and cli/: hex, percent-encoding,
// JSON strings, UTF-8 and environment look-ups. Depends on std only, so every
// module may include it without pulling in another module.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sx::text {

// Lowercase hex of `bytes`.
std::string to_hex(std::span<const std::uint8_t> bytes);
std::string to_hex(std::span<const std::byte> bytes);

// Keeps ASCII letters, digits and the characters in `keep`; every other byte
// becomes %XX (uppercase hex, RFC 3986).
std::string percent_encode(std::string_view text, std::string_view keep);

// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code
// points past U+10FFFF).
bool valid_utf8(std::string_view text);

// Appends `text` as a JSON string literal, quotes included. Always valid JSON
// and UTF-8: control characters become \u00XX, bytes that are not UTF-8
// become U+FFFD. The one JSON string writer of the project.
void append_json_string(std::string& out, std::string_view text);
std::string json_string(std::string_view text);

// The value of an environment variable, "" when unset.
std::string env(const char* name);

}  // namespace sx::text
