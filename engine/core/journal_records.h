// The text of resume journals (engine/core/journal_file.h): whole lines sealed
// with their CRC-32, and the two kinds of record they hold. Pure functions
// over text, so that journals an earlier run (or anyone) left are parsed in
// one place, fuzzed (fuzz/journal_fuzzer.cc), and never trusted further than
// their shape: what a record vouches for is re-checked (resume_check.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/resume_check.h"

namespace sx::engine {

// TEXT, a space, its CRC-32 (8 hex digits), a newline.
std::string sealed_line(std::string_view text);

// The texts of the intact lines of `all`, in order; a torn or damaged line
// ends the list (it and whatever follows are dropped).
std::vector<std::string> intact_lines(std::string_view all);

// A push record: "INDEX SIZE CRC32 URL DIGEST".
std::string format_push_record(const ResumedPiece& piece);
std::optional<ResumedPiece> parse_push_record(std::string_view line);

// A pull record: "INDEX DIGEST".
std::optional<std::pair<std::uint64_t, std::string>> parse_pull_record(std::string_view line);

}  // namespace sx::engine
