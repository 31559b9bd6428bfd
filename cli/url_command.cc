// `sxengine url KEY [--gateway URL]`: a key's URLs on a gateway (docs/GATEWAY.md),
// so nobody percent-encodes a key by hand. Nothing is fetched: the URLs are
// made from the key's text alone.
#include <CLI/CLI.hpp>

#include "base/text.h"
#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/key_argument.h"
#include "cli/standard_output.h"
#include "gateway/gateway.h"
#include "gateway/key_path.h"

namespace sx::cli {

CommandRunner add_url_command(CLI::App& app) {
  CLI::App* url = app.add_subcommand("url", "print a key's gateway URLs: /file?key=… and the path form /k/…/");
  auto key_arg = add_key_argument(url, "download key");
  auto gateway_url = std::make_shared<std::string>("http://" + gateway::GatewayOptions().listen);
  url->add_option("--gateway", *gateway_url, "the gateway's base URL (as serve printed it)")->capture_default_str();

  return [url, key_arg, gateway_url]() -> int {
    if (!url->parsed()) return -1;
    auto key = resolve_key(*key_arg);
    if (!key) return usage_error(key.error().message);
    std::string base = *gateway_url;
    if (base.rfind("http://", 0) != 0 && base.rfind("https://", 0) != 0)
      return usage_error("--gateway must be an http:// or https:// URL");
    while (!base.empty() && base.back() == '/') base.pop_back();
    // RFC 3986 unreserved characters stay; the fragment's '#' must not.
    const std::string text = base + "/file?key=" + text::percent_encode(*key, "-._~") + "\n" + base +
                             gateway::key_path(*key) + "\n";
    if (auto shown = write_stdout(text); !shown) return fail(nullptr, shown.error());
    return int{kExitOk};
  };
}

}  // namespace sx::cli
