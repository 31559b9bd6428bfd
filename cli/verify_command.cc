// `sxengine verify KEY`: fetches and checks every piece and the manifest
// tree, writing nothing. Exit 0 when all is well; otherwise 1, after a line
// per bad or missing piece and a summary.
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

std::string report_text(const VerifyReport& r, bool json) {
  std::string text;
  for (const PieceProblem& p : r.problems) {
    const char* what = p.code == Errc::kNotFound ? "missing" : p.code == Errc::kCorrupt ? "bad" : "unreadable";
    const char* kind = p.parity ? "parity piece" : "piece";
    if (json)
      text += fmt::format("{{\"event\":\"problem\",\"index\":{},\"parity\":{},\"url\":{},\"problem\":\"{}\",\"message\":{}}}\n",
                          p.index, p.parity ? "true" : "false", text::json_string(p.url), what, text::json_string(p.message));
    else
      text += fmt::format("{} {} {} ({}): {}\n", what, kind, p.index, printable(p.url), printable(p.message));
  }
  // A striped key: each backend's share, and whether every stripe can be rebuilt.
  for (const BackendHealth& b : r.backends) {
    if (json)
      text += fmt::format("{{\"event\":\"backend\",\"slot\":{},\"host\":{},\"present\":{},\"missing\":{},\"corrupt\":{}}}\n",
                          b.slot + 1, text::json_string(b.host), b.present, b.missing, b.corrupt);
    else
      text += fmt::format("backend {} ({}): {} present, {} missing, {} corrupt\n", b.slot + 1, printable(b.host),
                          b.present, b.missing, b.corrupt);
  }
  if (r.manifest_copies > 1) {
    if (json)
      text += fmt::format("{{\"event\":\"manifest_copies\",\"copies\":{},\"readable\":{}}}\n", r.manifest_copies,
                          r.manifest_copies_ok);
    else
      text += fmt::format("manifest copies: {} of {} readable\n", r.manifest_copies_ok, r.manifest_copies);
  }
  if (r.stripe_data > 0) {
    std::string list;
    for (std::size_t i = 0; i < r.unrecoverable_stripes.size() && i < 20; ++i)
      list += (i ? ", " : "") + std::to_string(r.unrecoverable_stripes[i]);
    if (json)
      text += fmt::format("{{\"event\":\"stripes\",\"stripes\":{},\"data\":{},\"parity\":{},\"recoverable\":{},"
                          "\"unrecoverable\":[{}]}}\n",
                          r.stripes, r.stripe_data, r.stripe_parity, r.recoverable() ? "true" : "false", list);
    else if (r.recoverable())
      text += fmt::format("stripes: {} of {} data + {} parity pieces, every one recoverable{}\n", r.stripes,
                          r.stripe_data, r.stripe_parity, r.problems.empty() ? "" : " (sxengine repair KEY restores them)");
    else
      text += fmt::format("stripes: {} of {} NOT recoverable (more than {} piece{} lost): {}{}\n",
                          r.unrecoverable_stripes.size(), r.stripes, r.stripe_parity, r.stripe_parity == 1 ? "" : "s",
                          list, r.unrecoverable_stripes.size() > 20 ? ", ..." : "");
  }
  std::uint64_t data_problems = 0;
  for (const PieceProblem& p : r.problems) data_problems += !p.parity;
  const std::uint64_t good = r.pieces - data_problems;
  const std::string digest = r.digest == "aead"   ? std::string("every piece's AES-GCM tag verified")
                             : !r.digest_checked ? "whole-file digest (" + r.digest + ") not checked"
                             : r.digest_matches  ? r.digest + " digest matches"
                                                 : r.digest + " digest MISMATCH";
  if (json)
    text += fmt::format("{{\"event\":\"verified\",\"ok\":{},\"pieces\":{},\"good\":{},\"problems\":{},\"bytes\":{},"
                        "\"manifest_levels\":{},\"digest\":\"{}\",\"digest_check\":\"{}\",\"sha256\":\"{}\"}}\n",
                        r.ok() ? "true" : "false", r.pieces, good, data_problems, r.bytes, r.manifest_levels, r.digest,
                        !r.digest_checked ? "unchecked" : r.digest_matches ? "match" : "mismatch", r.sha256);
  else
    text += fmt::format("{}: {} of {} pieces good ({} bytes), {} missing or bad; manifest {} level{}; {}{}\n",
                        r.ok() ? "ok" : "FAILED", good, r.pieces, r.bytes, data_problems, r.manifest_levels,
                        r.manifest_levels == 1 ? "" : "s", digest, r.sha256.empty() ? "" : "; sha256 " + r.sha256);
  return text;
}

}  // namespace

CommandRunner add_verify_command(CLI::App& app, CommandLine& line) {
  sx::Options& options = line.options;
  CLI::App* verify = app.add_subcommand("verify", "fetch and check every piece of a key, writing nothing");
  auto key_arg = add_key_argument(verify, "download key");
  verify->add_option("--passphrase", options.passphrase, "passphrase of a #s= key (also SXENGINE_PASSPHRASE)")
      ->envname("SXENGINE_PASSPHRASE");
  auto sha256 = std::make_shared<bool>(false);
  verify->add_flag("--sha256", *sha256, "also hash the whole file with SHA-256 (printed; compared when recorded)");
  add_transfer_options(verify, options);
  verify->add_flag("-q,--quiet", line.quiet, "no progress output");
  verify->add_flag("--json", line.json, "NDJSON events on stdout: problem, then verified");

  return [verify, key_arg, sha256, &line]() -> int {
    if (!verify->parsed()) return -1;
    auto key = resolve_key(*key_arg);
    if (!key) return usage_error(key.error().message);
    return run_with_storage(line, true, [&](Storage& storage, ProgressPrinter& printer) {
      auto report = storage.verify(*key, *sha256);
      if (!report) return fail(&printer, report.error());
      printer.close_line();
      if (auto shown = write_stdout(report_text(*report, line.json)); !shown) return fail(&printer, shown.error());
      return report->ok() ? int{kExitOk} : int{kExitFailure};
    });
  };
}

}  // namespace sx::cli
