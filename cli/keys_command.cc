// `sxengine keys [TEXT] [--json]`: the keys catalogue (cli/catalogue.h),
// oldest first; TEXT keeps the entries whose name holds it.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/text.h"
#include "cli/catalogue.h"
#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/progress_printer.h"
#include "cli/standard_output.h"

namespace sx::cli {

CommandRunner add_keys_command(CLI::App& app, CommandLine& line) {
  CLI::App* keys = app.add_subcommand("keys", "list what this machine pushed, with the keys (the keys catalogue)");
  auto filter = std::make_shared<std::string>();
  keys->add_option("TEXT", *filter, "only entries whose name holds TEXT");
  keys->add_flag("--json", line.json, "one JSON object a line");

  return [keys, filter, &line]() -> int {
    if (!keys->parsed()) return -1;
    auto catalogue = read_catalogue();
    if (!catalogue) return fail(nullptr, catalogue.error());
    std::string text;
    for (const CatalogueEntry& e : catalogue->entries) {
      if (!filter->empty() && e.name.find(*filter) == std::string::npos) continue;
      if (line.json)
        text += fmt::format("{{\"time\":{},\"name\":{},\"size\":{},\"files\":{},\"key\":{}}}\n", e.time,
                            text::json_string(e.name), e.size, e.files, text::json_string(e.key));
      else
        text += fmt::format("{}  {:>10}  {:>12}  {}  {}\n", local_minute(e.time), human_bytes(static_cast<double>(e.size)),
                            e.files > 0 ? std::to_string(e.files) + " files" : std::string("file"), printable(e.name),
                            printable(e.key));
    }
    if (catalogue->unreadable > 0)
      fmt::print(stderr, "sxengine: note: {} line(s) of {} are not catalogue entries and were skipped\n",
                 catalogue->unreadable, printable(catalogue_path()));
    if (auto shown = write_stdout(text); !shown) return fail(nullptr, shown.error());
    return int{kExitOk};
  };
}

}  // namespace sx::cli
