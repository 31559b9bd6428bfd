// The local directory store: the embedded default, no server needed.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "net/backend.h"

namespace sx::net {

// $XDG_DATA_HOME/sxengine/store, or ~/.local/share/sxengine/store.
std::filesystem::path default_store_dir();

// file:///… URL of an absolute path (percent-encoded) and back.
std::string file_url(const std::filesystem::path& path);
Result<std::filesystem::path> path_of_file_url(std::string_view url);

// Objects live at ROOT/ab/<name> (ab = first two characters), written to a
// temp file and renamed so a crash never leaves half an object under its name.
std::unique_ptr<Backend> make_local_backend(std::filesystem::path root, BodyCheck check_body = {});

}  // namespace sx::net
