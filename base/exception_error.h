// What an exception stands for once caught at a thread's edge (a worker's
// task, an event-loop completion, a gateway callback): the operation's
// error, never std::terminate. Exceptions are not how this code reports
// errors (Result is); these are the few a library can still throw
// (std::bad_alloc, std::system_error, std::length_error).
#pragma once

#include <exception>

#include "sx/error.h"

namespace sx {

// bad_alloc: kLimit "out of memory"; anything else: kIo "internal error: …".
Error error_from_exception(const std::exception_ptr& caught) noexcept;

}  // namespace sx
