"""The storagex compatibility package: the seed's API as written, and the
storagex v1 format it writes, checked byte by byte with Pillow and read back
by an independent reader and by the sxengine program."""

import json
import os
import struct
import subprocess
import sys
import urllib.parse

import pytest
from PIL import Image

import sxengine
from conftest import V1_READER


def pixels(key):
    image = Image.open(urllib.parse.unquote(urllib.parse.urlparse(key).path))
    return image, image.tobytes()


def test_the_seeds_api_example_as_written(random_file, tmp_path):
    file_name = str(random_file(1_500_000))
    # From the seed's README, "Upload file":
    from storagex.storage import Storage

    storage = Storage(width=600, height=600)
    # width and height will decide the chunk size ,one chunk size will be `width * height * 3 - 4`
    key, meta_info = storage.upload(file_name)

    meta_info_key = key
    original = open(file_name, "rb").read()
    os.remove(file_name)
    # "Download file":
    from storagex.storage import Storage

    storage = Storage()
    storage.download_file(meta_info_key, file_name)

    assert open(file_name, "rb").read() == original
    assert meta_info["piece_width"] == 600 and meta_info["piece_height"] == 600
    assert [p["size"] for p in meta_info["pieces"]] == [600 * 600 * 3 - 4] * 1 + [1_500_000 - (600 * 600 * 3 - 4)]


def test_the_format_byte_by_byte(random_file):
    from storagex.storage import Storage

    width, height = 300, 200
    chunk = width * height * 3 - 4
    src = random_file(chunk * 3 + 1234, name="data.bin")
    data = src.read_bytes()
    key, meta = Storage(width=width, height=height).upload(str(src))

    assert list(meta) == ["piece_width", "protocol_version", "pieces", "piece_height", "filename"]
    assert meta["protocol_version"] == 1.0 and isinstance(meta["protocol_version"], float)
    assert (meta["piece_width"], meta["piece_height"], meta["filename"]) == (width, height, "data.bin")
    assert [list(p) for p in meta["pieces"]] == [["seq", "key", "offset", "size", "checksum"]] * 4
    assert [(p["seq"], p["offset"], p["size"], p["checksum"]) for p in meta["pieces"]] == [
        (0, 0, chunk, ""), (1, chunk, chunk, ""), (2, 2 * chunk, chunk, ""), (3, 3 * chunk, 1234, "")]

    # The meta image: u32 LE length, exactly json.dumps(meta), zero padding.
    image, px = pixels(key)
    assert (image.format, image.mode, image.size) == ("PNG", "RGB", (width, height))
    (length,) = struct.unpack("<I", px[:4])
    assert px[4:4 + length] == json.dumps(meta).encode()
    assert px[4 + length:] == bytes(len(px) - 4 - length)

    # Every piece: a full width x height image, the same layout.
    for piece in meta["pieces"]:
        image, px = pixels(piece["key"])
        assert (image.format, image.mode, image.size) == ("PNG", "RGB", (width, height))
        assert struct.unpack("<I", px[:4])[0] == piece["size"]
        assert px[4:4 + piece["size"]] == data[piece["offset"]:piece["offset"] + piece["size"]]
        assert px[4 + piece["size"]:] == bytes(len(px) - 4 - piece["size"])


def test_read_by_an_independent_reader_and_by_sxengine_pull(random_file, tmp_path, sxengine_cli):
    from storagex.storage import Storage

    src = random_file(2_000_000)
    key, _ = Storage().upload(str(src))
    subprocess.run([sys.executable, str(V1_READER), key, str(tmp_path / "reader.bin")], check=True)
    assert (tmp_path / "reader.bin").read_bytes() == src.read_bytes()
    subprocess.run([sxengine_cli, "pull", "-q", key, str(tmp_path / "pulled.bin")], check=True)
    assert (tmp_path / "pulled.bin").read_bytes() == src.read_bytes()
    assert sxengine.Storage().info(key)["format"] == "storagex v1"


def test_the_empty_file_gives_the_seeds_meta(tmp_path):
    from storagex.storage import Storage

    (tmp_path / "sz000001").write_bytes(b"")
    key, meta = Storage().upload(str(tmp_path / "sz000001"))
    # The meta of the seed's transcript, character for character.
    assert json.dumps(meta) == ('{"piece_width": 1024, "protocol_version": 1.0, "pieces": [], '
                                '"piece_height": 768, "filename": "sz000001"}')
    Storage().download_file(key, str(tmp_path / "sz000001.backup"))
    assert (tmp_path / "sz000001.backup").read_bytes() == b""


def test_a_non_ascii_name_is_escaped_as_json_dumps_does(tmp_path):
    from storagex.storage import Storage

    name = "naïve \"quoted\" 文件 \U0001F600.txt"
    (tmp_path / name).write_bytes(b"hello")
    key, meta = Storage().upload(str(tmp_path / name))
    _, px = pixels(key)
    (length,) = struct.unpack("<I", px[:4])
    assert px[4:4 + length] == json.dumps(meta).encode("ascii")
    assert meta["filename"] == name


def test_a_backend_takes_the_pieces(random_file, tmp_path):
    from storagex.storage import Storage

    store = tmp_path / "elsewhere"
    key, meta = Storage(width=64, height=64, backend="dir:%s" % store).upload(str(random_file(50_000)))
    assert key.startswith("file://%s/" % store)
    assert all(p["key"].startswith("file://%s/" % store) for p in meta["pieces"])
    assert not (tmp_path / "data").exists()  # nothing went to the default local store


def test_errors(tmp_path, random_file):
    from storagex.storage import Storage

    with pytest.raises(sxengine.LimitError, match="does not fit one 20x20 image"):
        Storage(width=20, height=20).upload(str(random_file(100_000)))
    with pytest.raises(sxengine.UsageError, match="cannot hold its 4-byte length"):
        Storage(width=1, height=1).upload(str(random_file(10)))
    with pytest.raises(sxengine.NotFoundError):
        Storage().upload(str(tmp_path / "missing"))
    with pytest.raises(sxengine.NotFoundError):
        Storage().download_file("file://%s/missing.png" % tmp_path, str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
