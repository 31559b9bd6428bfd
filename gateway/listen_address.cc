#include "gateway/listen_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace sx::gateway {

Result<ListenAddress> parse_listen_address(std::string_view text) {
  auto bad = [&](std::string why) {
    return make_error(Errc::kInvalidArgument, "--listen " + std::string(text.substr(0, 100)) + ": " + why);
  };
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad("expected ADDR:PORT, e.g. 127.0.0.1:8340 or [::1]:8340");
  std::string host(text.substr(0, colon));
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
    return bad("the port must be a number 0..65535");
  ListenAddress out;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    auto* a = reinterpret_cast<sockaddr_in6*>(&out.address);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &a->sin6_addr) != 1)
      return bad("not a numeric IPv6 address");
    out.ipv6 = true;
    out.loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&out.address);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<std::uint16_t>(port));
    if (host.empty() || inet_pton(AF_INET, host.c_str(), &a->sin_addr) != 1)
      return bad("not a numeric IPv4 address (IPv6: [::1]:PORT)");
    out.loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
  }
  out.host = host;
  return out;
}

}  // namespace sx::gateway
