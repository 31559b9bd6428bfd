// `sxengine info KEY`: what a key holds, without fetching the pieces.
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

CommandRunner add_info_command(CLI::App& app, CommandLine& line) {
  sx::Options& options = line.options;
  CLI::App* info = app.add_subcommand("info", "show what a download key holds");
  auto key_arg = add_key_argument(info, "download key");
  info->add_flag("--json", line.json, "one JSON object");
  info->add_option("--passphrase", options.passphrase, "passphrase of a #s= key (also SXENGINE_PASSPHRASE)")
      ->envname("SXENGINE_PASSPHRASE");
  add_transfer_options(info, options);

  return [info, key_arg, &line]() -> int {
    if (!info->parsed()) return -1;
    auto key = resolve_key(*key_arg);
    if (!key) return usage_error(key.error().message);
    return run_with_storage(line, false, [&](Storage& storage, ProgressPrinter& printer) {
      auto result = storage.info(*key);
      if (!result) return fail(&printer, result.error());
      const FileInfo& i = *result;
      std::string text;
      if (line.json) {
        text = fmt::format("{{\"name\":{},\"size\":{},\"sha256\":\"{}\",\"digest\":\"{}\",\"pieces\":{},\"piece_size\":{},"
                           "\"width\":{},\"height\":{},\"format\":\"{}\",\"manifest_levels\":{},\"encryption\":\"{}\"}}\n",
                           text::json_string(i.name), i.size, i.sha256, i.digest, i.pieces, i.piece_bytes, i.width,
                           i.height, i.format, i.manifest_levels, i.encryption);
      } else {
        text = fmt::format("name:       {}\nsize:       {} bytes\nsha256:     {}\npieces:     {} of up to {} bytes ({}x{} px)\n"
                           "format:     {}\nmanifest:   {} level{}\nencryption: {}\n",
                           printable(i.name), i.size,
                           !i.sha256.empty() ? i.sha256
                           : i.digest == "none" ? std::string("(none: storagex v1)")
                                                : "(not recorded: pieces vouched for by " +
                                                      std::string(i.digest == "aead" ? "their AES-GCM tags" : "a SHA-256 tree") +
                                                      "; verify --sha256 computes it, push --sha256 records it)",
                           i.pieces,
                           i.piece_bytes, i.width, i.height, i.format, i.manifest_levels,
                           i.manifest_levels == 1 ? "" : "s",
                           i.encryption == "none" ? "none (public pieces)" : i.encryption);
      }
      if (i.stripe_data > 0) {  // a striped key: one more field (JSON) or line
        if (line.json)
          text.insert(text.size() - 2, fmt::format(",\"stripe\":{{\"data\":{},\"parity\":{},\"stripes\":{},\"manifest_copies\":{}}}",
                                                   i.stripe_data, i.stripe_parity, i.stripes, i.manifest_copies));
        else
          text += fmt::format("stripes:    {} of {} data + {} parity pieces over {} backends; {} manifest copies\n",
                              i.stripes, i.stripe_data, i.stripe_parity, i.stripe_data + i.stripe_parity,
                              i.manifest_copies);
      }
      if (i.entries > 0) {  // a tree key (docs/FORMAT.md §11)
        if (line.json)
          text.insert(text.size() - 2, fmt::format(",\"tree\":{{\"entries\":{},\"files\":{}}}", i.entries, i.files));
        else
          text += fmt::format("tree:       {} entries, {} files (sxengine ls lists them)\n", i.entries, i.files);
      }
      if (auto shown = write_stdout(text); !shown) return fail(&printer, shown.error());
      return int{kExitOk};
    });
  };
}

}  // namespace sx::cli
