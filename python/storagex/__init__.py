"""storagex compatibility: the API and command of storagex 0.3, on sxengine.

    from storagex.storage import Storage
    storage = Storage(width=600, height=600)
    key, meta_info = storage.upload(file_name)
    Storage().download_file(key, file_name)

It writes the storagex v1 format exactly (one chunk is width * height * 3 - 4
bytes), so storagex 0.3 reads what it stores; see docs/PYTHON.md for what
differs (pieces go to your own backends, the local store by default).
"""

__version__ = "0.3+sxengine"
