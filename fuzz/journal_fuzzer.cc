// Fuzzes the resume journals' text (engine/core/journal_records.cc): a journal
// is a file any earlier run, a crash or anyone with access left. Every
// intact line is parsed as a push and a pull record; a parsed push record
// must format back to the same line.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/core/journal_records.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace engine = sx::engine;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const std::string& line : engine::intact_lines(input)) {
    if (auto push = engine::parse_push_record(line)) {
      auto again = engine::parse_push_record(engine::format_push_record(*push));
      if (!again || again->entry.index != push->entry.index || again->entry.key != push->entry.key ||
          again->digest != push->digest || again->entry.crc32 != push->entry.crc32)
        std::abort();
    }
    (void)engine::parse_pull_record(line);
    if (engine::intact_lines(engine::sealed_line(line)).size() != 1) std::abort();
  }
  return 0;
}
