// stdout carries the one thing a push must not lose, the download key:
// every write to it is checked, and a closed stdout is known before a push
// starts rather than found after its pieces are stored.
#pragma once

#include <string>
#include <string_view>

#include "sx/error.h"

namespace sx::cli {

// At start-up: when fd 0, 1 or 2 is closed, /dev/null takes its place (so no
// file we open lands on it) and stdout_was_closed() remembers it.
void guard_standard_descriptors();
bool stdout_was_closed();

// Writes and flushes `text` to stdout; kIo with the reason on failure.
Status write_stdout(std::string_view text);

// The key of a push whose stdout failed, saved where it is not lost:
// $XDG_STATE_HOME/sxengine/keys/push-TIME-PID.key, mode 0600. Returns the
// path, or "" when even that failed.
std::string save_key(std::string_view key);

}  // namespace sx::cli
