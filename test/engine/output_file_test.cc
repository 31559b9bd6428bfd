// Tests engine/pull/output_file.cc.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/pull/output_file.h"

using namespace sx;
using namespace sx::engine;
namespace fs = std::filesystem;

TEST_CASE("stored names are sanitized to one safe component") {
  CHECK(sanitize_file_name("report.pdf") == "report.pdf");
  CHECK(sanitize_file_name("../../x") == "x");
  CHECK(sanitize_file_name("/etc/passwd") == "passwd");
  CHECK(sanitize_file_name("a\\b\\c.txt") == "c.txt");
  CHECK(sanitize_file_name("..") == "sxengine-download");
  CHECK(sanitize_file_name("") == "sxengine-download");
  CHECK(sanitize_file_name(std::string("evil\0name", 9)) == "evilname");
  CHECK(sanitize_file_name("line\nbreak\x1b[31m") == "linebreak[31m");
  CHECK(sanitize_file_name("-rf") == "rf");
  CHECK(sanitize_file_name(".bashrc") == "bashrc");
  CHECK(sanitize_file_name("naïve ☃.txt") == "naïve ☃.txt");
  CHECK(sanitize_file_name(std::string(1000, 'a')).size() == 255);
}

TEST_CASE("an output file appears only on commit, and never over a file without force") {
  const fs::path dir = fs::temp_directory_path() / ("sxout-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string target = (dir / "out.bin").string();
  std::string temp;
  {
    auto file = OutputFile::create(target, 4, false);
    REQUIRE(file);
    temp = file->temp_path();
    CHECK(fs::exists(temp));
    const char bytes[] = "abcd";
    REQUIRE(file->write_at(std::as_bytes(std::span(bytes, 4)), 0));
    CHECK_FALSE(fs::exists(target));
  }  // not committed: the temp file goes away
  CHECK_FALSE(fs::exists(temp));
  CHECK_FALSE(fs::exists(target));
  {
    auto file = OutputFile::create(target, 4, false);
    REQUIRE(file);
    const char bytes[] = "wxyz";
    REQUIRE(file->write_at(std::as_bytes(std::span(bytes, 4)), 0));
    REQUIRE(file->commit(false));
  }
  CHECK(fs::file_size(target) == 4);
  auto refused = OutputFile::create(target, 4, false);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("--force") != std::string::npos);
  CHECK(OutputFile::create(target, 4, true));
  CHECK(resolve_output_path(dir.string(), "../x") == (dir / "x").string());
  CHECK(resolve_output_path("", "a/b") == "b");
  fs::remove_all(dir);
}

TEST_CASE("a file that appears at the target while the pull runs is not replaced without force") {
  const fs::path dir = fs::temp_directory_path() / ("sxout-race-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string target = (dir / "out.bin").string();
  auto file = OutputFile::create(target, 4, false);  // the target does not exist yet
  REQUIRE(file);
  const char bytes[] = "pull";
  REQUIRE(file->write_at(std::as_bytes(std::span(bytes, 4)), 0));
  std::ofstream(target) << "theirs";  // another program (or pull) writes it meanwhile
  auto committed = file->commit(false, false);
  REQUIRE_FALSE(committed);
  CHECK(committed.error().message.find("appeared while the pull ran") != std::string::npos);
  std::ifstream in(target);
  CHECK(std::string(std::istreambuf_iterator<char>(in), {}) == "theirs");
  fs::remove_all(dir);
}

TEST_CASE("a stray temp name with a huge pid and a very long name do not stop a pull") {
  const fs::path dir = fs::temp_directory_path() / ("sxout-stray-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / ".out.bin.sxpart-99999999999999999999-1") << "x";  // std::stol threw on this
  auto file = OutputFile::create((dir / "out.bin").string(), 1, false);
  CHECK(file);
  const std::string long_name(250, 'n');
  auto long_file = OutputFile::create((dir / long_name).string(), 1, false, "0123456789abcdef");
  REQUIRE(long_file);
  CHECK(fs::path(long_file->temp_path()).filename().string().size() <= 255);
  CHECK(fs::path(long_file->journal_path()).filename().string().size() <= 255);
  fs::remove_all(dir);
}
