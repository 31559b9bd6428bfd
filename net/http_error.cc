#include "net/http_error.h"

namespace sx::net {
namespace {

std::string element(std::string_view body, std::string_view name) {
  std::string open = "<", close = "</";
  open.append(name).push_back('>');
  close.append(name).push_back('>');
  const auto begin = body.find(open);
  if (begin == std::string_view::npos) return {};
  const auto start = begin + open.size();
  const auto end = body.find(close, start);
  if (end == std::string_view::npos || end - start > 200) return {};
  return std::string(body.substr(start, end - start));
}

}  // namespace

std::string s3_error_code(std::string_view body) { return element(body, "Code"); }

// Only an S3 error code, and only one shaped as S3's are (an identifier):
// the rest of an error body is a server's content, which a message (that a
// gateway may show to its clients) never repeats (docs/SECURITY.md).
std::string describe_error_body(std::string_view body) {
  const std::string code = s3_error_code(body);
  if (code.empty() || code.size() > 64) return {};
  for (const char c : code)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return {};
  return " (" + code + ")";
}

}  // namespace sx::net
