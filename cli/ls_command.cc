// `sxengine ls KEY [-l] [--json]`: what a key holds, as `tar t` / `tar tv`
// show an archive, from its manifest alone (no piece is fetched).
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
namespace {

// "drwxr-xr-x", as ls -l and tar tv print a mode.
std::string mode_text(const TreeItem& item) {
  std::string text = item.type == "dir" ? "d" : item.type == "link" ? "l" : "-";
  const char* rwx = "rwxrwxrwx";
  for (int bit = 0; bit < 9; ++bit) text.push_back(item.mode & (0400u >> bit) ? rwx[bit] : '-');
  if (item.mode & 04000) text[3] = text[3] == 'x' ? 's' : 'S';
  if (item.mode & 02000) text[6] = text[6] == 'x' ? 's' : 'S';
  if (item.mode & 01000) text[9] = text[9] == 'x' ? 't' : 'T';
  return text;
}


}  // namespace

CommandRunner add_ls_command(CLI::App& app, CommandLine& line) {
  sx::Options& options = line.options;
  CLI::App* ls = app.add_subcommand("ls", "list what a download key holds (a tree's entries), as tar t does");
  auto key_arg = add_key_argument(ls, "download key");
  auto long_form = std::make_shared<bool>(false);
  ls->add_flag("-l,--long", *long_form, "mode, size, modification time and link targets, as tar tv");
  ls->add_flag("--json", line.json, "one JSON object a line");
  ls->add_option("--passphrase", options.passphrase, "passphrase of a #s= key (also SXENGINE_PASSPHRASE)")
      ->envname("SXENGINE_PASSPHRASE");
  add_transfer_options(ls, options);

  return [ls, key_arg, long_form, &line]() -> int {
    if (!ls->parsed()) return -1;
    auto key = resolve_key(*key_arg);
    if (!key) return usage_error(key.error().message);
    return run_with_storage(line, false, [&](Storage& storage, ProgressPrinter& printer) {
      auto items = storage.list(*key);
      if (!items) return fail(&printer, items.error());
      std::string text;
      for (const TreeItem& item : *items) {
        if (line.json) {
          text += fmt::format("{{\"path\":{},\"type\":\"{}\",\"mode\":{},\"mtime_ns\":{},\"size\":{}", text::json_string(item.path),
                              item.type, item.mode, item.mtime_ns, item.size);
          if (item.type == "link") text += ",\"target\":" + text::json_string(item.target);
          text += "}\n";
        } else if (*long_form) {
          text += fmt::format("{} {:>12} {} {}{}{}\n", mode_text(item), item.size, local_minute(item.mtime_ns / 1'000'000'000),
                              printable(item.path), item.type == "dir" ? "/" : "",
                              item.type == "link" ? " -> " + printable(item.target) : "");
        } else {
          text += printable(item.path) + (item.type == "dir" ? "/" : "") + "\n";
        }
        if (text.size() > (1 << 16)) {  // a tree of millions of entries streams out
          if (auto shown = write_stdout(text); !shown) return fail(&printer, shown.error());
          text.clear();
        }
      }
      if (auto shown = write_stdout(text); !shown) return fail(&printer, shown.error());
      return int{kExitOk};
    });
  };
}

}  // namespace sx::cli
