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

std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 160)) out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  return out;
}

}  // namespace

std::string s3_error_code(std::string_view body) { return element(body, "Code"); }

std::string describe_error_body(std::string_view body) {
  const std::string code = s3_error_code(body);
  if (!code.empty()) {
    const std::string message = element(body, "Message");
    return " (" + printable(code) + (message.empty() ? "" : ": " + printable(message)) + ")";
  }
  const auto error = body.find("\"error\"");
  if (error != std::string_view::npos && body.size() < 4096) {
    const auto quote = body.find('"', body.find(':', error) + 1);
    const auto end = quote == std::string_view::npos ? quote : body.find('"', quote + 1);
    if (end != std::string_view::npos) return " (" + printable(body.substr(quote + 1, end - quote - 1)) + ")";
  }
  return {};
}

}  // namespace sx::net
