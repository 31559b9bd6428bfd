#include "net/url_redaction.h"

namespace sx::net {

// Drops "user:password@" from every URL in `text` (a proxy's credentials in
// a libcurl message never reach a log).
std::string redact_userinfo(std::string text) {
  for (std::size_t scheme = text.find("://"); scheme != std::string::npos; scheme = text.find("://", scheme + 3)) {
    const std::size_t start = scheme + 3;
    const std::size_t end = text.find_first_of("/ ?#\"'", start);
    const std::size_t at = text.rfind('@', end == std::string::npos ? text.size() : end);
    if (at != std::string::npos && at >= start && (end == std::string::npos || at < end))
      text.replace(start, at + 1 - start, "");
  }
  return text;
}

// Redacts the query string (presigned URLs carry their signature there) and
// any credentials.
std::string url_for_messages(const std::string& url) {
  const auto query = url.find('?');
  return redact_userinfo(query == std::string::npos ? url : url.substr(0, query) + "?…");
}

}  // namespace sx::net
