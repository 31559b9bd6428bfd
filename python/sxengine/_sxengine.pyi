# Type stubs of the sxengine extension (python/sxengine_module.cc).
import builtins
import os
from typing import Any, Callable, Literal, Mapping, Optional, Sequence, TypedDict, Union

StrPath = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

__version__: str

def version() -> str:
    """sxengine's version and the libraries it was built with, one per line."""

class Error(Exception):
    """An sxengine operation failed; str(e) is the engine's message."""
    code: str  # "invalid argument", "not found", "I/O error", "cancelled", "corrupt", "denied", "unavailable", "limit exceeded"

class UsageError(Error): ...
class NotFoundError(Error): ...
class LocalIOError(Error): ...
class CancelledError(Error): ...
class CorruptError(Error): ...
class AuthError(Error): ...
class NetworkError(Error): ...
class LimitError(Error): ...

class FileInfo(TypedDict):
    name: str
    size: int
    sha256: str
    digest: str  # "sha256", "sha256-tree", "aead" or "none" (storagex v1)
    pieces: int
    piece_size: int
    width: int
    height: int
    format: str  # "sxengine v2" or "storagex v1"
    manifest_levels: int
    encryption: str  # "aes-256-gcm" or "none"
    stripe_data: int  # a striped key's data pieces per stripe; 0 otherwise
    stripe_parity: int  # its parity pieces per stripe
    stripes: int
    manifest_copies: int  # the key's URL and its &m= copies
    entries: int  # a tree key's entries; 0 for a file
    files: int  # a tree key's files

class TreeItem(TypedDict, total=False):
    path: str  # relative, '/'-separated (os.fsdecode of the stored bytes)
    type: Literal["file", "dir", "link"]
    mode: int
    mtime_ns: int
    size: int
    target: str  # links only

class PieceProblem(TypedDict):
    index: int
    url: str
    code: str
    message: str
    parity: bool  # a parity piece (index among the parity pieces) of a striped key

class BackendHealth(TypedDict):
    slot: int  # position in the push's backends
    host: str
    present: int
    missing: int
    corrupt: int

class VerifyReport(TypedDict):
    ok: bool
    pieces: int
    bytes: int
    manifest_levels: int
    problems: list[PieceProblem]
    digest: str
    digest_checked: bool
    digest_matches: bool
    sha256: str
    stripe_data: int
    stripe_parity: int
    stripes: int
    backends: list[BackendHealth]  # a striped key's share on each backend
    unrecoverable_stripes: list[int]
    recoverable: bool  # every stripe can be rebuilt (repair)
    manifest_copies: int
    manifest_copies_ok: int

class RepairReport(TypedDict):
    key: str  # the key to use from now on
    key_changed: bool
    data_pieces: int  # re-created
    parity_pieces: int
    manifest_copies: int
    stripes: int

class RemoveReport(TypedDict):
    objects: int
    removed: int
    already_gone: int
    skipped: list[str]  # objects the key names that rm left alone (not where its manifest lives), with why

# A progress event: {"event": "start", "operation", "total_bytes", "pieces"},
# {"event": "piece", "index", "bytes"}, {"event": "retry", "url", "attempt",
# "reason"}, {"event": "finish", "bytes", "seconds", "retries"} or
# {"event": "resume", "operation", "done", "total"}. The callback runs on the
# engine's threads with the GIL held; an exception it raises cancels the
# transfer and is re-raised by the call.
ProgressCallback = Callable[[Mapping[str, Any]], object]

class Storage:
    def __init__(
        self,
        *,
        backend: str = ...,  # "" (the local store), "dir:PATH", "http(s)://…/", "s3://BUCKET/PREFIX", "host:NAME", "sxcu:PATH"
        backends: Sequence[str] = ...,  # 2..16 backends: pieces striped over them with parity (not with backend=)
        parity: int = ...,  # parity pieces per stripe (default 1 with several backends)
        allow_private_addresses: bool = ...,  # a public key may name loopback/private pieces (LAN setups)
        piece_size: int = ...,  # payload bytes per piece, default 8 MiB (1024 .. 255 MiB)
        width: int = ...,  # piece image width in pixels (with height; excludes piece_size)
        height: int = ...,
        parallel: int = ...,  # requests in flight (default 16)
        workers: int = ...,  # encode/decode threads (0: one per core)
        level: int = ...,  # 0 stored deflate, 1..12 libdeflate level
        retries: int = ...,  # per request (default 8)
        stall_timeout: int = ...,  # seconds
        connect_timeout: int = ...,  # seconds
        request_timeout: int = ...,  # seconds
        bwlimit: int = ...,  # bytes per second, 0: none
        insecure: bool = ...,
        cacert: StrPath = ...,
        capath: StrPath = ...,
        proxy: str = ...,
        http1_only: bool = ...,
        endpoint: str = ...,  # S3 endpoint URL
        acl: str = ...,  # S3 canned ACL
        s3_sign_payload: bool = ...,
        force: bool = ...,  # download may replace an existing file
        fsync: bool = ...,
        resume: bool = ...,  # default True
        encrypt: bool = ...,  # default True (AES-256-GCM, key in the download key)
        sha256: bool = ...,  # also record the whole file's SHA-256
        passphrase: str = ...,
        compress: Literal["auto", "none", "zstd"] = ...,
        follow_symlinks: bool = ...,  # a tree push stores what symlinks point to (push -L)
        include: Sequence[str] = ...,  # a tree download keeps only paths matching these globs
        exclude: Sequence[str] = ...,  # ... and none matching these
        progress: Optional[ProgressCallback] = ...,
    ) -> None: ...
    def upload(self, path: Union[StrPath, Sequence[StrPath]], name: Optional[str] = None) -> str:
        """Pushes a file ("-": stdin), a directory or a list of paths (one tree key); returns its download key."""
    def download(self, key: str, out: Optional[StrPath] = None) -> str:
        """Pulls key to out (a file, a directory, None: the current directory; a tree under out); returns the path written."""
    def info(self, key: str) -> FileInfo: ...
    def list(self, key: str) -> builtins.list[TreeItem]:
        """A tree key's entries in tree order (a file key: its one file), as `sxengine ls --json`."""
    def verify(self, key: str, sha256: bool = False) -> VerifyReport: ...
    def remove(self, key: str, force: bool = False) -> RemoveReport: ...
    def repair(self, key: str, backend: Optional[str] = None) -> RepairReport:
        """Re-creates a striped key's lost pieces from parity: in place, or on backend (then the key changes)."""
    def upload_storagex_v1(self, path: StrPath, name: Optional[str] = None) -> tuple[str, dict[str, Any]]:
        """Pushes in the storagex v1 format (width x height images, unencrypted); returns (key, meta info)."""
    def storagex_meta(self, key: str) -> dict[str, Any]:
        """The storagex v1 meta info of a storagex key (UsageError for an sxengine key)."""
    def cancel(self) -> None:
        """Asks the running operation to stop (any thread)."""
