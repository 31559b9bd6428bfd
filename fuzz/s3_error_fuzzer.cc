// Fuzzes what sxengine reads of an error body (net/http_error.cc): S3's XML
// error code, and the detail a message may show, which must never carry
// more than an identifier of the server's text.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/http_error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)sx::net::s3_error_code(body);
  const std::string detail = sx::net::describe_error_body(body);
  if (detail.size() > 68) std::abort();  // " (" + at most 64 + ")"
  for (const char c : detail)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ' ' || c == '(' ||
          c == ')'))
      std::abort();
  return 0;
}
