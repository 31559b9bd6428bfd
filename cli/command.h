// What every command shares: the options it fills, how it runs with a
// Storage (signals, progress, --insecure warning), and the transfer options.
#pragma once

#include <functional>
#include <string>

#include "sx/options.h"

namespace CLI {
class App;
}

namespace sx {
class Storage;
}

namespace sx::cli {

class ProgressPrinter;

struct CommandLine {
  Options options;
  bool quiet = false;
  bool json = false;
};

// --parallel, --workers, --retries, timeouts, --insecure, --endpoint.
void add_transfer_options(CLI::App* command, Options& options);

// Builds the Storage, watches for Ctrl-C, and runs `body`; returns its exit status.
int run_with_storage(CommandLine& line, bool progress,
                     const std::function<int(Storage& storage, ProgressPrinter& printer)>& body);

// Each command registers its options on `app` and returns what runs it.
using CommandRunner = std::function<int()>;
CommandRunner add_push_command(CLI::App& app, CommandLine& line, const char* name);
CommandRunner add_pull_command(CLI::App& app, CommandLine& line, const char* name);
CommandRunner add_info_command(CLI::App& app, CommandLine& line);
CommandRunner add_ls_command(CLI::App& app, CommandLine& line);
CommandRunner add_keys_command(CLI::App& app, CommandLine& line);
CommandRunner add_verify_command(CLI::App& app, CommandLine& line);
CommandRunner add_rm_command(CLI::App& app, CommandLine& line);
CommandRunner add_repair_command(CLI::App& app, CommandLine& line);  // issue 15
CommandRunner add_completion_command(CLI::App& app);
CommandRunner add_manpage_command(CLI::App& app);
CommandRunner add_bench_command(CLI::App& app, const char* argv0);
CommandRunner add_serve_command(CLI::App& app);
CommandRunner add_url_command(CLI::App& app);

}  // namespace sx::cli
