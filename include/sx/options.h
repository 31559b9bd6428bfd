// Options of a Storage. Each gives its default, unit and cost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sx {

class ProgressSink;

struct Options {
  // Where push stores pieces: "" = the local store under $XDG_DATA_HOME,
  // "dir:PATH", "file:///PATH", "http(s)://HOST/PREFIX/".
  std::string backend;
  // --- Parity over several backends (docs/FORMAT.md §10) ---
  // Several backends (--backend given more than once; any mix): push stripes
  // pieces over them (docs/FORMAT.md §10) and stores the manifest on each.
  // When set, `backend` is ignored by push; repair stores re-created pieces
  // on `backend` when it is set.
  std::vector<std::string> backends;
  // Reed-Solomon parity pieces per stripe (--parity K, 0 ≤ K < backends).
  // -1: 1 with several backends (survive the loss of any one; storage
  // B/(B−1)), 0 with one. Each parity piece costs one piece of storage and
  // upload per stripe of B−K data pieces.
  int parity = -1;
  // --- end parity ---
  // Payload bytes per piece (default 8 MiB). Memory is about window × 2 × this.
  std::size_t piece_bytes = std::size_t{8} << 20;
  // Explicit piece image size in pixels (storagex's --width/--height); both
  // 0 = derive a near-square image from piece_bytes.
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  // Piece requests in flight (network backends). Each costs two piece buffers.
  int parallel = 16;
  // Encode/decode threads; 0 = one per core.
  int workers = 0;
  // 0 = stored deflate (fastest, the default); 1..12 = libdeflate level for
  // compressible data (slower: about 50-300 MB/s per core).
  int deflate_level = 0;
  int retries = 8;             // per request
  int stall_timeout_s = 30;    // abort a transfer slower than 1 KiB/s this long
  int connect_timeout_s = 10;
  int request_timeout_s = 600;  // ceiling for one request, retried like a timeout
  // --bwlimit: bytes per second in each direction, all connections together
  // (network backends; the local store is not limited). 0: no limit.
  std::uint64_t bwlimit_bytes_per_s = 0;
  bool insecure = false;       // skip TLS verification (never the default)
  // Trust these CAs (a private or company CA) instead of the system's:
  // --cacert FILE / --capath DIR; else CURL_CA_BUNDLE, SSL_CERT_FILE and
  // SSL_CERT_DIR, as curl and OpenSSL read them (S3: AWS_CA_BUNDLE and the
  // profile's ca_bundle first, as the AWS CLI does).
  std::string cacert;
  std::string capath;
  // --proxy URL for every request; else libcurl's own reading of
  // http_proxy, HTTPS_PROXY/https_proxy, ALL_PROXY, NO_PROXY.
  std::string proxy;
  // HTTP/2 over TLS with multiplexing (ALPN) when the server offers it;
  // --http1.1 forces HTTP/1.1.
  bool http1_only = false;
  // A key none of whose manifest copies is on an internal address (loopback,
  // private, link-local) may still name pieces on one (LAN setups). Off: such
  // a key cannot make sxengine reach internal hosts (docs/SECURITY.md).
  bool allow_private_addresses = false;
  std::string endpoint;        // S3 endpoint URL (else AWS_ENDPOINT_URL; "" = AWS)
  std::string acl;             // S3 canned ACL for pushed objects, e.g. "public-read"
  bool s3_sign_payload = false;  // S3: sign each body's SHA-256 (costs ~1 core at 1.5 GB/s)
  bool force = false;          // pull may replace an existing file
  // pull: fsync the file (and its directory) before it is moved into place,
  // so it survives a power loss right after the pull returns. Off by default,
  // as with curl, aria2, rclone and cp: the file is complete and verified in
  // the page cache either way; fsync costs about 2.5 × the write here.
  bool fsync = false;
  // Continue an interrupted push or pull of the same file, key and options
  // from its journal (docs/CLI.md §Resume); false (--no-resume) starts over.
  bool resume = true;
  // Encrypt pieces and manifest (AES-256-GCM, key in the download key's
  // #k= fragment). Costs one pass over the data (~2.7 GB/s per core).
  bool encrypt = true;
  // push: also record the whole file's SHA-256 (what sha256sum prints) in
  // the manifest, hashed in order on one thread (~2 GB/s with SHA-NI). Off by
  // default: pieces are vouched for by their AEAD tags (encrypted) or by a
  // SHA-256 tree hashed on the workers (unencrypted).
  bool record_sha256 = false;
  // Derive the key with Argon2id instead (the key URL then holds only a salt).
  std::string passphrase;
  enum class Compress { kAuto, kNone, kZstd };
  // auto: zstd when a sample of the file shrinks by 10% or more.
  Compress compress = Compress::kAuto;
  ProgressSink* progress = nullptr;  // not owned; may be null
  // --- Trees (push PATH…, docs/FORMAT.md §11) ---
  // push -L: store what symlinks point to instead of the links.
  bool follow_symlinks = false;
  // pull of a tree: only the entries whose path matches an include glob
  // (all when none is given) and no exclude glob (fnmatch; a directory that
  // matches brings everything below it). Only their pieces are fetched.
  std::vector<std::string> include;
  std::vector<std::string> exclude;
};

}  // namespace sx
