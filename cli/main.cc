// The sxengine program: argv → exit status (cli/exit_status.h). CLI11's
// exceptions stop here; every error is one line "sxengine: error: …".
#include <CLI/CLI.hpp>

#include <csignal>
#include <vector>

#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/interrupt.h"
#include "cli/standard_output.h"
#include "sx/storage.h"

int main(int argc, char** argv) {
  sx::cli::guard_standard_descriptors();
  sx::Runtime runtime;
  sx::cli::install_signal_handlers();
  std::signal(SIGPIPE, SIG_IGN);  // a closed pipe is a write error we report, not a silent death
  CLI::App app{"sxengine: store any file as PNG pieces on backends in cyber space"};
  app.require_subcommand(1);
  app.set_version_flag("--version", [] {
    std::string text = sx::version_text();
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  });

  sx::cli::CommandLine line;
  const std::vector<sx::cli::CommandRunner> commands = {
      sx::cli::add_push_command(app, line, "push"),   sx::cli::add_pull_command(app, line, "pull"),
      sx::cli::add_info_command(app, line),           sx::cli::add_ls_command(app, line),
      sx::cli::add_keys_command(app, line),
      sx::cli::add_verify_command(app, line),
      sx::cli::add_rm_command(app, line),             sx::cli::add_serve_command(app),
      sx::cli::add_url_command(app),
      sx::cli::add_repair_command(app, line),  // issue 15
      sx::cli::add_push_command(app, line, "upload"),
      sx::cli::add_pull_command(app, line, "download"), sx::cli::add_bench_command(app, argv[0]),
      sx::cli::add_completion_command(app),           sx::cli::add_manpage_command(app),
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return sx::cli::usage_error(e.what());
  }
  for (const auto& run : commands)
    if (const int status = run(); status >= 0) return status;
  return sx::cli::usage_error("no command given");
}
