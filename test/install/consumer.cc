// A program outside the project: built against the installed libsxengine
// through pkg-config (test/install/install_test.sh), it pushes FILE to a
// local directory store, pulls it back to OUT and prints the key.
#include <sx/storage.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: consumer FILE STORE_DIR OUT\n");
    return 2;
  }
  sx::Runtime runtime;
  sx::Options options;
  options.backend = std::string("dir:") + argv[2];
  sx::Storage storage(options);
  auto key = storage.upload(argv[1]);
  if (!key) {
    std::fprintf(stderr, "consumer: push: %s\n", key.error().message.c_str());
    return 1;
  }
  auto written = storage.download(*key, argv[3]);
  if (!written) {
    std::fprintf(stderr, "consumer: pull: %s\n", written.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", key->c_str());
  return 0;
}
