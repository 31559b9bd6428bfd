// `sxengine bench …` runs the separate sxengine-bench program beside this
// one: the benchmarks' baselines (their own nginx starter, raw libcurl, stb)
// and the allocation counter (a replaced operator new) stay out of the
// shipped binary.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "cli/command.h"
#include "cli/exit_status.h"

namespace sx::cli {

CommandRunner add_bench_command(CLI::App& app, const char*) {
  CLI::App* bench = app.add_subcommand("bench", "throughput benchmarks against baselines (runs sxengine-bench)");
  bench->prefix_command();
  bench->set_help_flag();  // "bench --help" is sxengine-bench's to answer  // everything after "bench" goes to sxengine-bench as it is
  return [bench]() -> int {
    if (!bench->parsed()) return -1;
    std::error_code ec;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
    const std::filesystem::path program = ec ? std::filesystem::path("sxengine-bench")
                                             : self.parent_path() / "sxengine-bench";
    std::vector<std::string> args{program.string()};
    for (const std::string& arg : bench->remaining()) args.push_back(arg);
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    ::execv(program.c_str(), argv.data());
    if (errno == ENOENT) ::execvp("sxengine-bench", argv.data());
    return usage_error("cannot run " + program.string() + ": " + std::strerror(errno));
  };
}

}  // namespace sx::cli
