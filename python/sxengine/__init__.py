"""sxengine: store files as PNG pieces on local, HTTP, S3 and image-host backends.

    import sxengine
    storage = sxengine.Storage(backend="dir:/srv/pieces", parallel=8)
    key = storage.upload("big.iso")
    path = storage.download(key, "copy.iso")

Storage's keyword arguments are the CLI's transfer options (docs/PYTHON.md
lists them); every failure raises a subclass of sxengine.Error carrying the
engine's one-line message; Ctrl-C (KeyboardInterrupt) cancels a transfer and
leaves no partial file.
"""

from ._sxengine import (
    AuthError,
    CancelledError,
    CorruptError,
    Error,
    LimitError,
    LocalIOError,
    NetworkError,
    NotFoundError,
    Storage,
    UsageError,
    __version__,
    version,
)

__all__ = [
    "AuthError",
    "CancelledError",
    "CorruptError",
    "Error",
    "LimitError",
    "LocalIOError",
    "NetworkError",
    "NotFoundError",
    "Storage",
    "UsageError",
    "__version__",
    "version",
]
