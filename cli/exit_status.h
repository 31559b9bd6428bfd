// Exit statuses scripts can branch on (docs/CLI.md §Exit statuses), and the one
// line every failure prints.
#pragma once

#include "sx/error.h"

namespace sx::cli {

enum ExitStatus : int {
  kExitOk = 0,
  kExitFailure = 1,      // anything not listed below
  kExitUsage = 2,        // bad options or arguments (and an OUT that exists without --force)
  kExitNotFound = 3,     // a key, piece, file or profile that does not exist
  kExitCorrupt = 4,      // corrupt data, a wrong content key or passphrase, a refused (hostile) object
  kExitDenied = 5,       // the server refused our credentials (401/403)
  kExitNetwork = 6,      // the network or server failed after every retry
  kExitLocalIo = 7,      // the local file system failed (disk full, permissions)
  kExitInterrupted = 130,  // SIGINT; SIGTERM gives 143 (128 + signal, as shells do)
};

int exit_status_for(Errc code);

class ProgressPrinter;

// Prints "sxengine: error: MESSAGE" (or "interrupted: …") on stderr, an
// error event on stdout with --json, and returns the exit status.
int fail(ProgressPrinter* printer, const Error& error);

// One line for a usage error; returns kExitUsage.
int usage_error(std::string_view message);

}  // namespace sx::cli
