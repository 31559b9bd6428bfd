// `sxengine rm KEY`: deletes a key's pieces and manifest where the backend can.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/key_argument.h"
#include "cli/progress_printer.h"
#include "cli/standard_output.h"
#include "sx/storage.h"

namespace sx::cli {

CommandRunner add_rm_command(CLI::App& app, CommandLine& line) {
  auto force = std::make_shared<bool>(false);
  sx::Options& options = line.options;
  CLI::App* rm = app.add_subcommand("rm", "delete a key's pieces and manifest where the backend can delete");
  auto key_arg = add_key_argument(rm, "download key");
  rm->add_flag("-f,--force", *force,
               "also delete an unencrypted key's objects on HTTP or S3, where pieces shared with another push cannot be seen");
  rm->add_option("--passphrase", options.passphrase, "passphrase of a #s= key (also SXENGINE_PASSPHRASE)")
      ->envname("SXENGINE_PASSPHRASE");
  add_transfer_options(rm, options);
  rm->add_flag("-q,--quiet", line.quiet, "no summary on stderr");
  rm->add_flag("--json", line.json, "one JSON event on stdout");

  return [rm, key_arg, force, &line]() -> int {
    if (!rm->parsed()) return -1;
    auto key = resolve_key(*key_arg);
    if (!key) return usage_error(key.error().message);
    return run_with_storage(line, false, [&](Storage& storage, ProgressPrinter& printer) {
      auto report = storage.remove(*key, *force);
      if (!report) return fail(&printer, report.error());
      if (line.json) {
        if (auto shown = write_stdout(fmt::format("{{\"event\":\"removed\",\"objects\":{},\"removed\":{},\"already_gone\":{},\"skipped\":{}}}\n",
                                                  report->objects, report->removed, report->already_gone,
                                                  report->skipped.size()));
            !shown)
          return fail(&printer, shown.error());
      } else if (!line.quiet) {
        fmt::print(stderr, "sxengine: removed {} of {} objects ({} were already gone)\n", report->removed,
                   report->objects, report->already_gone);
      }
      // What the key named that rm would not touch: said, and not a success.
      for (const std::string& why : report->skipped) fmt::print(stderr, "sxengine: skipped {}\n", printable(why));
      if (!report->skipped.empty()) {
        fmt::print(stderr, "sxengine: error: {} object(s) the key names were left alone (see above)\n",
                   report->skipped.size());
        return int{kExitFailure};
      }
      return int{kExitOk};
    });
  };
}

}  // namespace sx::cli
