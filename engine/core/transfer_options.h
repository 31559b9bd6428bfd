// The network settings an sx::Options asks for, as the event loop takes
// them: one place for pull, push and the gateway.
#pragma once

#include "net/http.h"
#include "sx/options.h"

namespace sx::engine {

// Timeouts, TLS trust (the option, else curl's and OpenSSL's variables),
// proxy, HTTP version, retries, --parallel as the in-flight cap, --bwlimit.
net::TransferOptions transfer_options(const Options& options);

}  // namespace sx::engine
