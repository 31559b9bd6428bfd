// Image hosts: each piece is a multipart form POST described by a profile;
// the host's answer names the image URL, which becomes the key.
#pragma once

#include <memory>

#include "net/backend.h"
#include "net/host_profile.h"

namespace sx::net {

std::unique_ptr<Backend> make_image_host_backend(EventLoop& loop, HostProfile profile, const BackendOptions& options);

}  // namespace sx::net
