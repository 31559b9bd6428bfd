// Which network addresses a stranger's key may make sxengine reach
// (docs/SECURITY.md §Keys from strangers): loopback, private (RFC 1918,
// RFC 4193, carrier-grade NAT), link-local, unspecified and multicast
// addresses are "internal"; a key that is not itself on one may not name
// them (as SSRF guards and curl's redirect rules do).
#pragma once

#include <string_view>

struct sockaddr;

namespace sx::net {

// An IPv4 or IPv6 socket address (IPv4-mapped IPv6 judged as IPv4).
bool is_internal_address(const sockaddr* address);

// A URL host (an IP literal, "[v6]", or a name): true for internal literals
// and "localhost" (and its subdomains); false for other names.
bool is_internal_literal(std::string_view host);

// As is_internal_literal, and a name that resolves (getaddrinfo) to any
// internal address. A name that does not resolve is not internal.
bool resolves_internal(std::string_view host);

// The host of an http(s):// URL ("" for others), without brackets or port.
std::string_view url_host(std::string_view url);

}  // namespace sx::net
