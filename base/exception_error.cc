#include "base/exception_error.h"

#include <new>
#include <string>

namespace sx {

Error error_from_exception(const std::exception_ptr& caught) noexcept {
  try {
    try {
      std::rethrow_exception(caught);
    } catch (const std::bad_alloc&) {
      return Error{Errc::kLimit, "out of memory"};
    } catch (const std::exception& e) {
      return Error{Errc::kIo, std::string("internal error: ") + e.what()};
    } catch (...) {
      return Error{Errc::kIo, "internal error: an unknown exception"};
    }
  } catch (...) {  // the message itself could not be had
    return Error{Errc::kLimit, std::string()};
  }
}

}  // namespace sx
