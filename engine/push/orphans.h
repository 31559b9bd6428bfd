// A push that fails after storing pieces leaves them behind: no key refers
// to them. This says so in the error, and lists their URLs in a file under
// the user's state directory so they can be removed.
#pragma once

#include "net/backend.h"
#include "sx/error.h"

namespace sx::engine {

class Uploader;

// `error` with what `uploader` stored appended ("; 12 pieces (96.0 MiB)
// stored before the failure remain at BACKEND, no key refers to them:
// their URLs are in FILE"); unchanged when nothing was stored.
Error with_orphans(Error error, const Uploader& uploader, const net::Backend& backend);

// $XDG_STATE_HOME/sxengine (or ~/.local/state/sxengine).
std::string state_dir();

}  // namespace sx::engine
