"""The storagex command: storagex upload FILE, storagex download KEY OUT.

Prints what storagex 0.3 printed (its transcript in docs/PYTHON.md), so
scripts that read its output keep working; errors are one line on stderr.
Pieces go to --backend URI, else $STORAGEX_BACKEND, else sxengine's local
store (any sxengine backend: dir:PATH, http(s)://HOST/PREFIX/, s3://..., host:NAME).
"""

import json
import os
import sys

import sxengine
from storagex.storage import Storage, log

USAGE = ("usage: storagex [--backend URI] upload FILE\n"
         "       storagex [--backend URI] download KEY OUT\n"
         "  --backend URI  where pieces go (else $STORAGEX_BACKEND, else sxengine's local store)\n")

# The exit statuses of sxengine's own CLI (docs/CLI.md §Exit statuses).
EXIT_STATUS = {
    sxengine.UsageError: 2,
    sxengine.NotFoundError: 3,
    sxengine.CorruptError: 4,
    sxengine.AuthError: 5,
    sxengine.NetworkError: 6,
    sxengine.LocalIOError: 7,
}


def upload(file_name, backend):
    storage = Storage(verbose=True, backend=backend)
    key, meta_info = storage.upload(file_name)
    log("meta is : %s" % json.dumps(meta_info))
    log("meta key is : %s " % key)  # the trailing space is storagex's
    print("Completely uploaded! YOUR DOWNLOAD KEY IS : %s" % key)


def download(key, file_name, backend):
    storage = Storage(backend=backend)
    print(json.dumps(storage.meta_info(key)))
    written = storage.download_file(key, file_name)  # OUT may be a directory: the path inside it
    print("donwload done! the file is %s" % written)  # sic: storagex 0.3's words


def split_options(args):
    """(backend, the other arguments); --backend URI or --backend=URI anywhere."""
    backend, rest, i = os.environ.get("STORAGEX_BACKEND", ""), [], 0
    while i < len(args):
        if args[i] == "--backend" and i + 1 < len(args):
            backend, i = args[i + 1], i + 2
            continue
        if args[i].startswith("--backend="):
            backend = args[i][len("--backend="):]
        else:
            rest.append(args[i])
        i += 1
    return backend, rest


def main(argv=None):
    backend, args = split_options(sys.argv[1:] if argv is None else list(argv))
    try:
        if "-h" in args or "--help" in args:
            sys.stdout.write(USAGE)
        elif len(args) == 2 and args[0] == "upload":
            upload(args[1], backend)
        elif len(args) == 3 and args[0] == "download":
            download(args[1], args[2], backend)
        else:
            sys.stderr.write(USAGE)
            return 2
    except sxengine.Error as error:
        sys.stderr.write("storagex: error: %s\n" % error)
        return EXIT_STATUS.get(type(error), 1)
    except OSError as error:  # the file to upload, before the engine sees it
        sys.stderr.write("storagex: error: %s: %s\n" % (error.filename, error.strerror))
        return 3 if isinstance(error, FileNotFoundError) else 7
    except KeyboardInterrupt:
        sys.stderr.write("storagex: interrupted\n")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
