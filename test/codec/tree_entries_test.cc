// Tests codec/tree_entries.cc's rules for duplicate files (docs/FORMAT.md §11):
// a duplicate takes no stream bytes and must name an earlier file's bytes exactly.
#include <doctest/doctest.h>

#include "codec/tree_entries.h"

using sx::codec::EntryType;
using sx::codec::TreeEntry;

namespace {

std::vector<TreeEntry> tree_with(TreeEntry dup) {
  return {TreeEntry{"a", EntryType::kFile, 0644, 0, 10, 0, ""}, TreeEntry{"b", EntryType::kFile, 0644, 0, 5, 10, ""},
          std::move(dup)};
}

TreeEntry duplicate(std::uint64_t size, std::uint64_t offset) {
  TreeEntry e{"c", EntryType::kFile, 0644, 0, size, offset, ""};
  e.duplicate = true;
  return e;
}

}  // namespace

TEST_CASE("a duplicate names an earlier file's offset and size, and takes no bytes") {
  CHECK(sx::codec::check_tree_entries(tree_with(duplicate(10, 0)), 15));
  CHECK(sx::codec::check_tree_entries(tree_with(duplicate(5, 10)), 15));
  CHECK(sx::codec::tree_json(tree_with(duplicate(5, 10))).find(R"("path":"c","mode":420,"mtime_ns":0,"size":5,"offset":10,"dup":true)") !=
        std::string::npos);
  // Not an earlier file's bytes: a part of one, past the stream, empty, or counted as bytes of its own.
  CHECK_FALSE(sx::codec::check_tree_entries(tree_with(duplicate(4, 0)), 15));
  CHECK_FALSE(sx::codec::check_tree_entries(tree_with(duplicate(5, 11)), 15));
  CHECK_FALSE(sx::codec::check_tree_entries(tree_with(duplicate(0, 15)), 15));
  CHECK_FALSE(sx::codec::check_tree_entries(tree_with(duplicate(10, 0)), 25));
  // A duplicate of a duplicate is refused: only files with bytes of their own are originals.
  auto chained = tree_with(duplicate(10, 0));
  TreeEntry d = duplicate(10, 0);
  d.path = "d";
  chained.push_back(d);
  CHECK(sx::codec::check_tree_entries(chained, 15));  // both name "a"
  auto later = tree_with(duplicate(10, 0));
  TreeEntry early = duplicate(10, 0);
  early.path = "0";  // sorts before "a": nothing earlier holds those bytes
  later.insert(later.begin(), early);
  auto refused = sx::codec::check_tree_entries(later, 15);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("duplicate file \"0\"") != std::string::npos);
}
