// `sxengine manpage`: docs/sxengine.1, made from the command line's own
// definition (the same text --help prints) plus the sections below. A test
// checks that the committed page is what this prints, so they agree.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/standard_output.h"

namespace sx::cli {
namespace {

// roff: a leading dot or quote would start a request; backslashes escape.
std::string roff(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out.push_back(c);
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

constexpr std::string_view kHead = R"(.TH SXENGINE 1 "" "sxengine 0.1.0" "User Commands"
.SH NAME
sxengine \- store any file as PNG pieces on backends in cyber space
.SH SYNOPSIS
.B sxengine push
.I FILE
[\fIoptions\fR]
.br
.B sxengine pull
.I KEY
[\fIOUT\fR] [\fIoptions\fR]
.br
.B sxengine info
|
.B verify
.I KEY
[\fIoptions\fR]
.br
.B sxengine completion bash\fR|\fBzsh\fR|\fBfish
.br
.B sxengine bench codec\fR|\fBtransfer\fR|\fBlocal\fR|\fBcrypto
[\fIoptions\fR]
.SH DESCRIPTION
.B sxengine
cuts a file into pieces, encrypts each (AES\-256\-GCM, by default), encodes it
into the pixels of a genuine PNG, uploads the pieces concurrently to a
backend (the local store, a directory, an HTTP/WebDAV server, an S3 bucket or
an image host), and uploads a manifest image whose URL is the download key.
.B sxengine pull
rebuilds the file from the key alone, verified piece by piece and by the
whole file's SHA\-256; nothing appears under the output name until then.
.PP
Sizes accept binary suffixes (512K, 8M, 1G). Every command takes
\fB\-h\fR, \fB\-\-help\fR; \fBsxengine \-\-version\fR prints the version and
the libraries it runs with.
.B upload
and
.B download
are the same commands as
.B push
and
.B pull
under storagex's names.
.SH COMMANDS
)";

constexpr std::string_view kTail = R"(.SH BACKENDS
.TP
(none)
the local store, $XDG_DATA_HOME/sxengine/store
.TP
\fBdir:\fIPATH\fR, \fBfile:///\fIPATH\fR
a directory
.TP
\fBhttp(s)://\fIHOST/PREFIX/\fR
PUT/GET/DELETE (nginx dav, WebDAV)
.TP
\fBs3://\fIBUCKET/PREFIX\fR
S3\-compatible stores, signed with SigV4 (AWS_* variables, ~/.aws/credentials)
.TP
\fBhost:\fINAME\fR, \fBhost:{\fIJSON\fB}\fR, \fBsxcu:\fIPATH\fR
image hosts by profile ($XDG_CONFIG_HOME/sxengine/hosts.json) or ShareX file
.SH EXIT STATUS
.TP
0
success
.TP
1
other failure (verify: a bad or missing piece)
.TP
2
usage: bad or contradictory options, a key that is not a URL, an existing OUT without \-\-force
.TP
3
not found: a key, piece, input file or image\-host profile
.TP
4
corrupt data, a wrong key or passphrase, a hostile object refused
.TP
5
denied: 401/403, or a TLS certificate that failed verification
.TP
6
network: the server or network failed after every retry
.TP
7
local I/O: disk full, permissions, an input changed while pushed, a key that could not be written
.TP
130, 143
interrupted by SIGINT, SIGTERM
.SH ENVIRONMENT
.TP
SXENGINE_PASSPHRASE
the passphrase of \-\-passphrase
.TP
SXENGINE_NO_CATALOGUE
1: pushes are not recorded in the keys catalogue
.TP
AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE
S3 settings, as the AWS tools read them
.TP
XDG_DATA_HOME, XDG_STATE_HOME, XDG_CONFIG_HOME
where the local store, journals and saved keys, and image\-host profiles live
.SH FILES
.TP
$XDG_STATE_HOME/sxengine/keys/
keys of pushes whose standard output failed (mode 0600)
.TP
$XDG_STATE_HOME/sxengine/catalogue.jsonl
the keys catalogue: every key a push printed (mode 0600; sxengine keys lists it)
.TP
$XDG_STATE_HOME/sxengine/orphans/
URLs of pieces a failed push left behind
.SH SEE ALSO
The README, docs/FORMAT.md and docs/SECURITY.md of the sxengine sources.
)";

std::string page(CLI::App& app) {
  std::string out(kHead);
  for (CLI::App* sub : app.get_subcommands({})) {
    if (sub->get_group().empty()) continue;  // hidden
    out += ".SS " + roff(sub->get_name()) + "\n" + roff(sub->get_description()) + "\n";
    for (const CLI::Option* opt : sub->get_options()) {
      if (opt->get_lnames().empty() && opt->get_snames().empty() && !opt->get_positional()) continue;
      if (opt->get_name() == "--help" || opt->get_lnames() == std::vector<std::string>{"help"}) continue;
      std::string names;
      if (opt->get_positional()) {
        names = "\\fI" + roff(opt->get_name()) + "\\fR";
      } else {
        for (const std::string& s : opt->get_snames()) names += (names.empty() ? "" : ", ") + ("\\fB\\-" + s + "\\fR");
        for (const std::string& l : opt->get_lnames()) names += (names.empty() ? "" : ", ") + ("\\fB\\-\\-" + roff(l) + "\\fR");
        if (opt->get_expected_max() != 0) names += " \\fI" + roff(opt->get_type_name().empty() ? "VALUE" : opt->get_type_name()) + "\\fR";
      }
      std::string text = roff(opt->get_description());
      if (!opt->get_default_str().empty()) text += " (default: " + roff(opt->get_default_str()) + ")";
      out += ".TP\n" + names + "\n" + text + "\n";
    }
  }
  out += kTail;
  return out;
}

}  // namespace

CommandRunner add_manpage_command(CLI::App& app) {
  CLI::App* manpage = app.add_subcommand("manpage", "print the man page (docs/sxengine.1)");
  manpage->group("");  // hidden: for the build and its test
  return [manpage, &app]() -> int {
    if (!manpage->parsed()) return -1;
    if (auto shown = write_stdout(page(app)); !shown) return fail(nullptr, shown.error());
    return int{kExitOk};
  };
}

}  // namespace sx::cli
