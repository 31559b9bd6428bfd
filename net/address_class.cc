#include "net/address_class.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <string>

namespace sx::net {
namespace {

bool internal_v4(std::uint32_t a) {  // host byte order
  const auto in = [a](std::uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
  return in(0x00000000, 8)       // 0.0.0.0/8 "this network"
         || in(0x0a000000, 8)    // 10/8
         || in(0x64400000, 10)   // 100.64/10 carrier-grade NAT
         || in(0x7f000000, 8)    // 127/8 loopback
         || in(0xa9fe0000, 16)   // 169.254/16 link-local (cloud metadata)
         || in(0xac100000, 12)   // 172.16/12
         || in(0xc0a80000, 16)   // 192.168/16
         || in(0xe0000000, 4)    // multicast
         || a == 0xffffffff;
}

bool internal_v6(const in6_addr& a) {
  const std::uint8_t* b = a.s6_addr;
  static const std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, kMapped, 12) == 0)
    return internal_v4(std::uint32_t(b[12]) << 24 | std::uint32_t(b[13]) << 16 | std::uint32_t(b[14]) << 8 | b[15]);
  static const std::uint8_t kZero[15] = {};
  if (std::memcmp(b, kZero, 15) == 0) return true;  // :: and ::1
  return (b[0] & 0xfe) == 0xfc                      // fc00::/7 unique local
         || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)  // fe80::/10 link-local
         || (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)  // fec0::/10 site-local (deprecated)
         || b[0] == 0xff;                            // multicast
}

std::string bare(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string out(host);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  while (!out.empty() && out.back() == '.') out.pop_back();  // "localhost." is localhost
  return out;
}

}  // namespace

bool is_internal_address(const sockaddr* address) {
  if (address->sa_family == AF_INET)
    return internal_v4(ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr));
  if (address->sa_family == AF_INET6) return internal_v6(reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr);
  return true;  // not an IP socket: never a stranger's to reach
}

bool is_internal_literal(std::string_view host) {
  const std::string h = bare(host);
  if (h == "localhost" || (h.size() > 10 && h.compare(h.size() - 10, 10, ".localhost") == 0)) return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) return internal_v4(ntohl(v4.s_addr));
  in6_addr v6{};
  if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1) return internal_v6(v6);
  return false;
}

bool resolves_internal(std::string_view host) {
  if (is_internal_literal(host)) return true;
  const std::string h = bare(host);
  if (h.empty()) return false;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(h.c_str(), nullptr, &hints, &found) != 0) return false;
  bool internal = false;
  for (const addrinfo* a = found; a && !internal; a = a->ai_next) internal = is_internal_address(a->ai_addr);
  ::freeaddrinfo(found);
  return internal;
}

std::string_view url_host(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  const std::string_view s = url.substr(0, scheme);
  if (s != "http" && s != "https") return {};
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);  // user:pass@
  if (!rest.empty() && rest.front() == '[') return rest.substr(0, rest.find(']') + 1);
  return rest.substr(0, rest.find(':'));
}

}  // namespace sx::net
