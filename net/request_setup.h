// Request building: readies a transfer's easy handle for one attempt of its
// request (every curl option: URL rules, TLS, proxy, HTTP version, timeouts,
// headers, method, body and form, the body callbacks, and the refusal of
// internal addresses for keys that may reach public ones only).
#pragma once

#include "net/transfer.h"

namespace sx::net {

// `t.easy` is a fresh (or reset) handle. `public_only`: connections to
// internal addresses are refused (net/address_class.h).
Status set_up_request(Transfer& t, const TransferOptions& options, bool public_only);

}  // namespace sx::net
