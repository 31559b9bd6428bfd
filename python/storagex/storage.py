"""storagex.storage.Storage: storagex 0.3's API over the sxengine engine."""

import datetime
import os
import sys

import sxengine


def log(message):
    """One line as storagex printed it: '2017-09-08 23:21:45.570764 [storagex] ...'."""
    sys.stdout.write("%s [storagex] %s\n" % (datetime.datetime.now(), message))
    sys.stdout.flush()


class Storage(object):
    """Stores files in the storagex v1 format.

    width and height decide the chunk size: one chunk is width * height * 3 - 4
    bytes. Pieces go to the local store (sxengine's default) unless backend is
    given ("dir:PATH", "http(s)://HOST/PREFIX/", "s3://BUCKET/PREFIX", ...);
    other keyword arguments are sxengine.Storage's (parallel, retries, ...).
    verbose=True prints storagex's log lines (the storagex command does).
    """

    def __init__(self, width=1024, height=768, backend=None, verbose=False, **options):
        self.width = width
        self.height = height
        self.verbose = verbose
        # The format is unencrypted by nature; download_file replaces an
        # existing file, as storagex did.
        options.setdefault("force", True)
        self._engine = sxengine.Storage(backend=backend or "", width=width, height=height,
                                        encrypt=False, **options)

    def upload(self, file_name):
        """Stores file_name; returns (key, meta_info), the key being the meta image's URL."""
        if self.verbose:
            log("total file size is %d" % os.path.getsize(file_name))
        key, meta_info = self._engine.upload_storagex_v1(file_name)
        if self.verbose:
            for piece in meta_info["pieces"] or [{"seq": 0, "size": 0}]:
                log("seq %d size is %d" % (piece["seq"], piece["size"]))
        return key, meta_info

    def download_file(self, meta_info_key, file_name):
        """Rebuilds the file meta_info_key points to at file_name; returns file_name."""
        return self._engine.download(meta_info_key, file_name)

    def meta_info(self, meta_info_key):
        """The meta info (a dict) a storagex key points to."""
        return self._engine.storagex_meta(meta_info_key)
