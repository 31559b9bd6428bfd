// `sxengine push PATH…` (and `upload`, the seed's verb): prints the key. One
// file is a file key; a directory or several PATHs one tree key.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "base/text.h"
#include "cli/catalogue.h"
#include "cli/command.h"
#include "cli/exit_status.h"
#include "cli/progress_printer.h"
#include "cli/standard_output.h"
#include "sx/storage.h"

namespace sx::cli {
namespace {

struct PushArgs {
  std::vector<std::string> paths;
  std::string files_from;
  bool null_separated = false;
  bool no_catalogue = false;
  std::string name;
  std::string compress = "auto";
  std::string format = "sxengine";
  CLI::Option* passphrase = nullptr;
  CLI::Option* piece_size = nullptr;
  CLI::Option* width = nullptr;
  std::vector<std::string> backends;
};

// The key reaches stdout or the user learns where it went; never exit 0
// with the key lost (for an encrypted push it is the only way back).
int print_key(CommandLine& line, ProgressPrinter& printer, const std::string& key) {
  const std::string text = line.json ? "{\"event\":\"key\",\"key\":" + text::json_string(key) + "}\n" : key + "\n";
  Status written = write_stdout(text);
  if (written) return kExitOk;
  const std::string saved = save_key(key);
  Error error = written.error();
  error.message += "; the file is stored, " +
                   (saved.empty() ? std::string("but its key could not be saved either: the pieces are unreachable")
                                  : "and its key was saved to " + saved + " (mode 0600)");
  return fail(&printer, error);
}

// --files-from: PATHs one a line (or NUL-ended with -0); empty lines are
// skipped. Read before anything is pushed, bounded.
Result<std::vector<std::string>> read_path_list(const std::string& file, bool null_separated) {
  std::FILE* in = file == "-" ? stdin : std::fopen(file.c_str(), "rb");
  if (in == nullptr) return make_error(Errc::kIo, "cannot open --files-from " + file + ": " + std::strerror(errno));
  std::vector<std::string> paths;
  std::string current;
  const int end = null_separated ? '\0' : '\n';
  std::uint64_t bytes = 0;
  for (int c; (c = std::fgetc(in)) != EOF;) {
    if (++bytes > (std::uint64_t{1} << 30)) {
      if (in != stdin) std::fclose(in);
      return make_error(Errc::kLimit, "--files-from " + file + " is larger than 1 GiB");
    }
    if (c != end) {
      current.push_back(static_cast<char>(c));
      continue;
    }
    if (!current.empty()) paths.push_back(std::move(current));
    current.clear();
  }
  const bool failed = std::ferror(in);
  if (in != stdin) std::fclose(in);
  if (failed) return make_error(Errc::kIo, "cannot read --files-from " + file);
  if (!current.empty()) paths.push_back(std::move(current));
  return paths;
}

// The push in the keys catalogue (cli/catalogue.h), from what the push
// stored: no round trip to a host that may have gone slow since. A catalogue
// that cannot be written costs a note, never the push.
void catalogue(ProgressPrinter& printer, const std::string& key, const std::string& name, std::uint64_t size,
               std::uint64_t files) {
  if (text::env("SXENGINE_NO_CATALOGUE") == "1") return;
  CatalogueEntry entry;
  entry.time = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  entry.key = key;
  entry.name = name;
  entry.size = size;
  entry.files = files;
  if (Status added = add_to_catalogue(entry); !added)
    printer.on_note("not recorded in the keys catalogue: " + added.error().message);
}

// --format storagex-v1: the format has no encryption, digest or zstd, so
// options asking for them are refused rather than silently dropped.
int push_storagex_v1(CLI::App& push, const PushArgs& args, CommandLine& line) {
  if (push.count("--passphrase") > 0)
    return usage_error("--format storagex-v1 is unencrypted by nature: --passphrase cannot apply");
  if (push.count("--sha256") > 0) return usage_error("--format storagex-v1 has no place for --sha256");
  if (args.compress == "zstd") return usage_error("--format storagex-v1 cannot carry --compress zstd");
  if (push.count("--piece-size") > 0)
    return usage_error("--format storagex-v1 pieces are width x height images: use --width/--height, not --piece-size");
  if (args.backends.size() > 1 || push.count("--parity") > 0)  // issue 15
    return usage_error("--format storagex-v1 has no stripes or parity: give one --backend");
  line.options.passphrase.clear();  // SXENGINE_PASSPHRASE is for encrypted pushes
  return run_with_storage(line, true, [&](Storage& storage, ProgressPrinter& printer) {
    auto pushed = storage.upload_storagex_v1(args.paths.front(), args.name);
    if (!pushed) return fail(&printer, pushed.error());
    const int status = print_key(line, printer, pushed->key);
    if (!args.no_catalogue) catalogue(printer, pushed->key, pushed->name, pushed->size, 0);
    return status;
  });
}

}  // namespace

CommandRunner add_push_command(CLI::App& app, CommandLine& line, const char* name) {
  auto args = std::make_shared<PushArgs>();
  sx::Options& options = line.options;
  CLI::App* push = app.add_subcommand(name, std::string(name) == "push"
                                                ? "store a file; prints its download key"
                                                : "the same as push (storagex's verb)");
  push->add_option("PATH", args->paths,
                   "file to push (- for stdin); a directory, or several PATHs, are pushed as one tree key");
  push->add_option("--files-from", args->files_from, "also push the PATHs listed in this file, one a line (- for stdin)");
  push->add_flag("-0,--null", args->null_separated, "--files-from's PATHs end in NUL bytes, not newlines (find -print0)");
  push->add_flag("--no-catalogue", args->no_catalogue,
                 "do not record this push in the keys catalogue (sxengine keys; also SXENGINE_NO_CATALOGUE=1)");
  push->add_flag("-L,--dereference", options.follow_symlinks,
                 "in a tree, store what symlinks point to instead of the links");
  push->add_option("--backend", args->backends,
                   "dir:PATH, file:///PATH, http(s)://HOST/PREFIX/, s3://BUCKET/PREFIX, host:NAME, "
                   "host:{JSON}, sxcu:PATH (default: the local store); give it 2-16 times to stripe the "
                   "pieces over several backends with parity")
      ->expected(1)
      ->allow_extra_args(false)  // never eats the PATH or KEY after it
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  push->add_option("--parity", options.parity,
                   "Reed-Solomon parity pieces per stripe: the file survives the loss of any K backends "
                   "(default: 1 with several backends, 0 with one)")
      ->check(CLI::Range(0, 15));
  args->piece_size = push->add_option("--piece-size", options.piece_bytes, "payload bytes per piece (8M, 512K, ...)")
                         ->transform(CLI::AsSizeValue(false))
                         ->check(CLI::Range(std::size_t{1024}, std::size_t{255} << 20))
                         ->capture_default_str();
  args->width = push->add_option("--width", options.width, "piece image width in pixels")->check(CLI::Range(1u, 16384u));
  auto* height = push->add_option("--height", options.height, "piece image height in pixels")->check(CLI::Range(1u, 16384u));
  args->width->needs(height);
  height->needs(args->width);
  args->width->excludes(args->piece_size);
  height->excludes(args->piece_size);
  push->add_option("--name", args->name, "file name stored in the manifest (default: PATH's)");
  auto* no_encrypt = push->add_flag("--no-encrypt", [&options](std::int64_t) { options.encrypt = false; },
                                    "store public, unencrypted pieces (as storagex did)");
  args->passphrase = push->add_option("--passphrase", options.passphrase,
                                      "derive the key from a passphrase with Argon2id (also SXENGINE_PASSPHRASE)");
  args->passphrase->excludes(no_encrypt);
  push->add_flag("--sha256", options.record_sha256,
                 "also record the whole file's SHA-256 (as sha256sum prints it; hashed in order, ~2 GB/s)");
  push->add_option("--compress", args->compress, "zstd before encryption: auto (when a sample shrinks), none, zstd")
      ->check(CLI::IsMember({"auto", "none", "zstd"}))->capture_default_str();
  push->add_option("--level", options.deflate_level, "0 stored (fastest) or deflate level 1..12")
      ->check(CLI::Range(0, 12))->capture_default_str();
  push->add_option("--acl", options.acl, "S3 canned ACL for every object (public-read: keys pull without credentials)")
      ->check(CLI::IsMember({"private", "public-read", "authenticated-read", "bucket-owner-read",
                             "bucket-owner-full-control"}));
  push->add_option("--format", args->format,
                   "sxengine (the default) or storagex-v1: the 2017 storagex format, which storagex 0.1-0.3 "
                   "reads; unencrypted and unchecksummed by nature (--passphrase is refused); "
                   "--width/--height default to 1024x768")
      ->check(CLI::IsMember({"sxengine", "storagex-v1"}))->capture_default_str();
  push->add_flag("--s3-sign-payload", options.s3_sign_payload,
                 "S3: sign each body's SHA-256 instead of UNSIGNED-PAYLOAD");
  push->add_flag("--no-resume", [&options](std::int64_t) { options.resume = false; },
                 "start over instead of continuing an interrupted push of the same file");
  add_transfer_options(push, options);
  push->add_flag("-q,--quiet", line.quiet, "no progress output");
  push->add_flag("--json", line.json, "NDJSON events on stdout; the last one carries the key");

  return [push, args, &line]() -> int {
    if (!push->parsed()) return -1;
    sx::Options& o = line.options;
    if (args->backends.size() == 1) o.backend = args->backends[0];
    else o.backends = args->backends;
    o.compress = args->compress == "none"   ? Options::Compress::kNone
                 : args->compress == "zstd" ? Options::Compress::kZstd
                                            : Options::Compress::kAuto;
    // SXENGINE_PASSPHRASE applies to encrypted pushes; --no-encrypt with an
    // explicit --passphrase is refused by CLI11 above.
    if (o.passphrase.empty() && o.encrypt) o.passphrase = text::env("SXENGINE_PASSPHRASE");
    if (stdout_was_closed())
      return usage_error("standard output is closed: the download key would be lost (nothing was pushed)");
    if (!args->files_from.empty()) {
      auto listed = read_path_list(args->files_from, args->null_separated);
      if (!listed) return usage_error(listed.error().message);
      args->paths.insert(args->paths.end(), listed->begin(), listed->end());
    }
    if (args->paths.empty()) return usage_error("give a PATH to push (or --files-from LIST)");
    if (args->format == "storagex-v1") {
      if (args->paths.size() > 1) return usage_error("--format storagex-v1 holds one file: give one PATH");
      return push_storagex_v1(*push, *args, line);
    }
    return run_with_storage(line, true, [&](Storage& storage, ProgressPrinter& printer) {
      auto pushed = storage.push(args->paths, args->name);
      if (!pushed) return fail(&printer, pushed.error());
      const int status = print_key(line, printer, pushed->key);
      if (!args->no_catalogue) catalogue(printer, pushed->key, pushed->name, pushed->size, pushed->files);
      return status;
    });
  };
}

}  // namespace sx::cli
