// `sxengine repair KEY [--backend NEW]`: re-creates a striped key's missing
// or corrupt pieces (and manifest copies) from their stripes; prints the key
// to use from now on, and says on stderr whether it changed.
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

CommandRunner add_repair_command(CLI::App& app, CommandLine& line) {
  auto backend = std::make_shared<std::string>();
  sx::Options& options = line.options;
  CLI::App* repair = app.add_subcommand("repair", "re-create a striped key's missing or corrupt pieces from parity");
  auto key_arg = add_key_argument(repair, "download key (of a push with several --backend)");
  repair->add_option("--backend", *backend,
                     "store re-created pieces on this backend instead of where they were (a replacement host; "
                     "the key then changes)");
  repair->add_option("--passphrase", options.passphrase, "passphrase of a #s= key (also SXENGINE_PASSPHRASE)")
      ->envname("SXENGINE_PASSPHRASE");
  add_transfer_options(repair, options);
  repair->add_flag("-q,--quiet", line.quiet, "no progress or summary on stderr");
  repair->add_flag("--json", line.json, "one JSON event on stdout, with the key");

  return [repair, key_arg, backend, &line]() -> int {
    if (!repair->parsed()) return -1;
    auto key = resolve_key(*key_arg);
    if (!key) return usage_error(key.error().message);
    return run_with_storage(line, false, [&](Storage& storage, ProgressPrinter& printer) {
      auto report = storage.repair(*key, *backend);
      if (!report) return fail(&printer, report.error());
      const std::string text =
          line.json ? fmt::format("{{\"event\":\"repaired\",\"key\":{},\"key_changed\":{},\"data_pieces\":{},"
                                  "\"parity_pieces\":{},\"manifest_copies\":{},\"stripes\":{}}}\n",
                                  text::json_string(report->key), report->key_changed ? "true" : "false",
                                  report->data_pieces, report->parity_pieces, report->manifest_copies, report->stripes)
                    : report->key + "\n";
      if (auto shown = write_stdout(text); !shown) return fail(&printer, shown.error());
      if (!line.quiet && !line.json)
        fmt::print(stderr, "sxengine: re-created {} data and {} parity pieces in {} stripes, {} manifest copies; {}\n",
                   report->data_pieces, report->parity_pieces, report->stripes, report->manifest_copies,
                   report->key_changed ? "the key CHANGED: use the one above" : "the key is unchanged");
      return int{kExitOk};
    });
  };
}

}  // namespace sx::cli
