// `sxengine pull KEY [OUT]` (and `download`, the seed's verb).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/text.h"
#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/key_argument.h"
#include "cli/progress_printer.h"
#include "cli/standard_output.h"
#include "sx/storage.h"

namespace sx::cli {

CommandRunner add_pull_command(CLI::App& app, CommandLine& line, const char* name) {
  auto out = std::make_shared<std::string>();
  sx::Options& options = line.options;
  CLI::App* pull = app.add_subcommand(name, std::string(name) == "pull" ? "rebuild a file from its download key"
                                                                        : "the same as pull (storagex's verb)");
  auto key_arg = add_key_argument(pull, "download key (file:// or http(s):// URL)");
  pull->add_option("OUT", *out, "output file or directory (default: the stored name, here); - for stdout; a tree key is recreated under this directory");
  pull->add_flag("-f,--force", options.force, "replace an existing output file (of a tree: its files and links)");
  pull->add_option("--include", options.include,
                   "of a tree key, pull only the paths that match this glob (a directory brings what is in it; "
                   "may be given again)")
      ->expected(1)
      ->allow_extra_args(false)  // never eats the PATH or KEY after it
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  pull->add_option("--exclude", options.exclude, "of a tree key, leave out the paths that match this glob (may be given again)")
      ->expected(1)
      ->allow_extra_args(false)  // never eats the PATH or KEY after it
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  pull->add_flag("--fsync", options.fsync, "fsync the file before it is moved into place (survives a power loss)");
  pull->add_option("--passphrase", options.passphrase, "passphrase of a #s= key (also SXENGINE_PASSPHRASE)")
      ->envname("SXENGINE_PASSPHRASE");
  pull->add_flag("--no-resume", [&options](std::int64_t) { options.resume = false; },
                 "start over instead of continuing an interrupted pull of the same key");
  add_transfer_options(pull, options);
  pull->add_flag("-q,--quiet", line.quiet, "no progress output");
  pull->add_flag("--json", line.json, "NDJSON events on stdout");

  return [pull, key_arg, out, &line]() -> int {
    if (!pull->parsed()) return -1;
    auto key = resolve_key(*key_arg, out.get());
    if (!key) return usage_error(key.error().message);
    if (*out == "-" && line.json) return usage_error("pull to standard output (-) cannot also print --json events there");
    return run_with_storage(line, true, [&](Storage& storage, ProgressPrinter& printer) {
      if (*out == "-" && stdout_was_closed())
        return fail(&printer, Error{Errc::kIo, "standard output is closed: the file would be lost (nothing was pulled)"});
      auto written = storage.download(*key, *out);
      if (!written) return fail(&printer, written.error());
      if (line.json) {
        if (auto shown = write_stdout("{\"event\":\"written\",\"path\":" + text::json_string(*written) + "}\n"); !shown)
          return fail(&printer, shown.error());
      } else if (!line.quiet && *written != "-") {
        fmt::print(stderr, "sxengine: wrote {}\n", printable(*written));
      }
      return int{kExitOk};
    });
  };
}

}  // namespace sx::cli
