// --listen ADDR:PORT: a numeric IPv4 or [IPv6] address and a port (0: any
// free one). No host names: what the gateway binds is what the user typed.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "sx/error.h"

namespace sx::gateway {

struct ListenAddress {
  sockaddr_storage address{};
  bool ipv6 = false;
  bool loopback = false;  // 127.0.0.0/8 or ::1
  std::string host;       // as it goes in a URL ("127.0.0.1", "[::1]")
};

Result<ListenAddress> parse_listen_address(std::string_view text);

}  // namespace sx::gateway
