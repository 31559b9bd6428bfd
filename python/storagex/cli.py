"""The storagex command: storagex upload FILE, storagex download KEY OUT.

Prints what storagex 0.3 printed (its transcript in docs/PYTHON.md), so
scripts that read its output keep working; errors are one line on stderr.
"""

import json
import sys

import sxengine
from storagex.storage import Storage, log

USAGE = "usage: storagex upload FILE\n       storagex download KEY OUT\n"

# The exit statuses of sxengine's own CLI (docs/CLI.md §Exit statuses).
EXIT_STATUS = {
    sxengine.UsageError: 2,
    sxengine.NotFoundError: 3,
    sxengine.CorruptError: 4,
    sxengine.AuthError: 5,
    sxengine.NetworkError: 6,
    sxengine.LocalIOError: 7,
}


def upload(file_name):
    storage = Storage(verbose=True)
    key, meta_info = storage.upload(file_name)
    log("meta is : %s" % json.dumps(meta_info))
    log("meta key is : %s " % key)  # the trailing space is storagex's
    print("Completely uploaded! YOUR DOWNLOAD KEY IS : %s" % key)


def download(key, file_name):
    storage = Storage()
    print(json.dumps(storage.meta_info(key)))
    storage.download_file(key, file_name)
    print("donwload done! the file is %s" % file_name)  # sic: storagex 0.3's words


def main(argv=None):
    args = sys.argv[1:] if argv is None else argv
    try:
        if len(args) == 2 and args[0] == "upload":
            upload(args[1])
        elif len(args) == 3 and args[0] == "download":
            download(args[1], args[2])
        elif args in (["-h"], ["--help"]):
            sys.stdout.write(USAGE)
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
