// `sxengine completion bash|zsh|fish`: a completion script made from the
// command line's own definition, so it cannot drift from --help.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/standard_output.h"

namespace sx::cli {
namespace {

struct Spec {
  std::string name;
  std::vector<std::string> options;  // "--long" and "-s"
  std::vector<std::string> value_options;  // options taking a value
  bool takes_paths = false;               // FILE / OUT positionals
};

std::vector<Spec> specs(CLI::App& app) {
  std::vector<Spec> out;
  for (CLI::App* sub : app.get_subcommands({})) {
    if (sub->get_group().empty()) continue;  // hidden (manpage)
    Spec spec{sub->get_name(), {}, {}, false};
    for (const CLI::Option* opt : sub->get_options()) {
      if (opt->get_positional()) {
        const std::string n = opt->get_name();
        spec.takes_paths = spec.takes_paths || n == "FILE" || n == "OUT";
        continue;
      }
      for (const std::string& l : opt->get_lnames()) {
        spec.options.push_back("--" + l);
        if (opt->get_expected_max() != 0) spec.value_options.push_back("--" + l);
      }
      for (const std::string& s : opt->get_snames()) spec.options.push_back("-" + s);
    }
    out.push_back(std::move(spec));
  }
  return out;
}

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::string bash(const std::vector<Spec>& all) {
  std::vector<std::string> names;
  for (const Spec& s : all) names.push_back(s.name);
  std::string cases;
  for (const Spec& s : all)
    cases += fmt::format("    {}) opts=\"{}\"; files={} ;;\n", s.name, join(s.options), s.takes_paths ? 1 : 0);
  return fmt::format(R"(# bash completion for sxengine (sxengine completion bash)
_sxengine() {{
  local cur=${{COMP_WORDS[COMP_CWORD]}} cmd=${{COMP_WORDS[1]}} opts files=0
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "{} --help --version" -- "$cur")); return
  fi
  case $cmd in
{}  esac
  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$opts --help" -- "$cur"))
  elif [ "$files" = 1 ]; then COMPREPLY=($(compgen -f -- "$cur"))
  fi
}}
complete -o filenames -F _sxengine sxengine
)",
                     join(names), cases);
}

std::string zsh(const std::vector<Spec>& all) {
  std::string commands, cases;
  for (const Spec& s : all) {
    commands += " " + s.name;
    std::string args;
    for (const std::string& o : s.options) args += " '" + o + "'";
    cases += fmt::format("    {}) _arguments{} {} ;;\n", s.name, args, s.takes_paths ? "'*:file:_files'" : "");
  }
  return fmt::format(R"(#compdef sxengine
# zsh completion for sxengine (sxengine completion zsh)
_sxengine() {{
  if (( CURRENT == 2 )); then compadd{} --help --version; return; fi
  case $words[2] in
{}  esac
}}
_sxengine "$@"
)",
                     commands, cases);
}

std::string fish(const std::vector<Spec>& all) {
  std::string out = "# fish completion for sxengine (sxengine completion fish)\ncomplete -c sxengine -f\n";
  for (const Spec& s : all) {
    out += fmt::format("complete -c sxengine -n __fish_use_subcommand -a {}\n", s.name);
    for (const std::string& o : s.options) {
      const bool takes_value =
          std::find(s.value_options.begin(), s.value_options.end(), o) != s.value_options.end();
      const std::string flag = o.rfind("--", 0) == 0 ? "-l " + o.substr(2) : "-s " + o.substr(1);
      out += fmt::format("complete -c sxengine -n '__fish_seen_subcommand_from {}' {}{}\n", s.name, flag,
                         takes_value ? " -r" : "");
    }
    if (s.takes_paths) out += fmt::format("complete -c sxengine -n '__fish_seen_subcommand_from {}' -F\n", s.name);
  }
  return out;
}

}  // namespace

CommandRunner add_completion_command(CLI::App& app) {
  auto shell = std::make_shared<std::string>();
  CLI::App* completion = app.add_subcommand("completion", "print a shell completion script");
  completion->add_option("SHELL", *shell, "bash, zsh or fish")->required()->check(CLI::IsMember({"bash", "zsh", "fish"}));
  return [completion, shell, &app]() -> int {
    if (!completion->parsed()) return -1;
    const std::vector<Spec> all = specs(app);
    const std::string script = *shell == "bash" ? bash(all) : *shell == "zsh" ? zsh(all) : fish(all);
    if (auto shown = write_stdout(script); !shown) return fail(nullptr, shown.error());
    return int{kExitOk};
  };
}

}  // namespace sx::cli
