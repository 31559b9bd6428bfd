#include "cli/exit_status.h"

#include <fmt/format.h>

#include "cli/interrupt.h"
#include "cli/progress_printer.h"

namespace sx::cli {

int exit_status_for(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument: return kExitUsage;
    case Errc::kNotFound: return kExitNotFound;
    case Errc::kCorrupt:
    case Errc::kLimit: return kExitCorrupt;
    case Errc::kDenied: return kExitDenied;
    case Errc::kTransient: return kExitNetwork;
    case Errc::kIo: return kExitLocalIo;
    case Errc::kCancelled: return kExitInterrupted;
  }
  return kExitFailure;
}

int fail(ProgressPrinter* printer, const Error& error) {
  if (printer) printer->close_line();
  const int signal = interrupting_signal();
  const int status = signal ? 128 + signal : exit_status_for(error.code);
  if (printer) printer->on_error(errc_name(error.code), status, error.message);
  fmt::print(stderr, "sxengine: {}: {}\n", signal ? "interrupted" : "error", printable(error.message));
  return status;
}

int usage_error(std::string_view message) {
  std::string line(message);
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  while (!line.empty() && line.back() == ' ') line.pop_back();
  fmt::print(stderr, "sxengine: error: {} (see sxengine --help)\n", printable(line));
  return kExitUsage;
}

}  // namespace sx::cli
