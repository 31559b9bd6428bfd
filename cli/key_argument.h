// Where a command's download key comes from: the KEY argument, or, so that
// it never shows in `ps` or shell history, --key-file FILE (- for stdin: its
// first line) or the SXENGINE_KEY environment variable (docs/CLI.md, "The key off the command line").
#pragma once

#include <memory>
#include <string>

#include "sx/error.h"

namespace CLI {
class App;
}

namespace sx::cli {

struct KeyArgument {
  std::string positional;  // KEY, or (pull) OUT when the key came from elsewhere
  std::string file;        // --key-file
};

// Adds the optional KEY positional and --key-file to `command`.
std::shared_ptr<KeyArgument> add_key_argument(CLI::App* command, const char* description);

// The key: KEY, else --key-file, else SXENGINE_KEY. Both KEY and --key-file
// is a usage error (kInvalidArgument), as is none of the three. With
// `out_after_key` (pull's [OUT]), a lone positional given beside
// --key-file or SXENGINE_KEY is OUT and is moved there.
Result<std::string> resolve_key(KeyArgument& argument, std::string* out_after_key = nullptr);

}  // namespace sx::cli
