// Plain HTTP objects: PUT PREFIX<name> / GET key / DELETE key (WebDAV, nginx
// dav_methods, presigned-style servers). Keys are the object URLs.
#pragma once

#include <memory>
#include <string>

#include "net/backend.h"

namespace sx::net {

// `prefix` ends with '/' (added when missing); empty for a GET-only backend.
std::unique_ptr<Backend> make_http_backend(EventLoop& loop, std::string prefix, const BackendOptions& options);

}  // namespace sx::net
