"""The storagex command prints the seed's transcript lines."""

import json
import re
import subprocess

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})? \[storagex\] "


def run(*args):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60)


def test_upload_and_download_transcript(storagex_command, tmp_path):
    # The seed's transcript, on an empty file of the same name.
    (tmp_path / "sz000001").write_bytes(b"")
    up = run(storagex_command, "upload", str(tmp_path / "sz000001"))
    assert up.returncode == 0, up.stderr
    lines = up.stdout.splitlines()
    assert len(lines) == 5, lines
    assert re.fullmatch(STAMP + "total file size is 0", lines[0])
    assert re.fullmatch(STAMP + "seq 0 size is 0", lines[1])
    assert re.fullmatch(STAMP + re.escape('meta is : {"piece_width": 1024, "protocol_version": 1.0, "pieces": [], '
                                          '"piece_height": 768, "filename": "sz000001"}'), lines[2])
    match = re.fullmatch(STAMP + r"meta key is : (file://\S+) ", lines[3])
    assert match, lines[3]
    key = match.group(2)
    assert lines[4] == "Completely uploaded! YOUR DOWNLOAD KEY IS : " + key

    down = run(storagex_command, "download", key, str(tmp_path / "sz000001.backup"))
    assert down.returncode == 0, down.stderr
    assert down.stdout.splitlines() == [
        '{"piece_width": 1024, "protocol_version": 1.0, "pieces": [], "piece_height": 768, "filename": "sz000001"}',
        "donwload done! the file is %s" % (tmp_path / "sz000001.backup"),  # sic: the seed's words
    ]
    assert (tmp_path / "sz000001.backup").read_bytes() == b""


def test_a_file_of_several_pieces(storagex_command, random_file, tmp_path):
    src = random_file(5_000_000)
    up = run(storagex_command, "upload", str(src))
    assert up.returncode == 0, up.stderr
    lines = up.stdout.splitlines()
    chunk = 1024 * 768 * 3 - 4
    assert re.fullmatch(STAMP + "total file size is 5000000", lines[0])
    assert [re.fullmatch(STAMP + r"seq (\d+) size is (\d+)", l).group(2, 3) for l in lines[1:4]] == [
        ("0", str(chunk)), ("1", str(chunk)), ("2", str(5_000_000 - 2 * chunk))]
    meta = json.loads(re.fullmatch(STAMP + "meta is : (.*)", lines[4]).group(2))
    key = lines[-1].split(" : ", 1)[1]
    down = run(storagex_command, "download", key, str(tmp_path / "back.bin"))
    assert down.returncode == 0, down.stderr
    assert json.loads(down.stdout.splitlines()[0]) == meta
    assert (tmp_path / "back.bin").read_bytes() == src.read_bytes()


def test_errors_are_one_line(storagex_command, tmp_path):
    missing = run(storagex_command, "download", "file://%s/nope.png" % tmp_path, str(tmp_path / "out"))
    assert missing.returncode == 3
    assert missing.stderr.startswith("storagex: error: ") and missing.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()
    usage = run(storagex_command)
    assert usage.returncode == 2 and usage.stderr.startswith("usage: storagex [--backend URI] upload FILE")
    nofile = run(storagex_command, "upload", str(tmp_path / "absent"))
    assert nofile.returncode == 3 and "absent" in nofile.stderr


def test_backend_option_environment_help_and_directory(storagex_command, random_file, tmp_path):
    # --backend URI (or STORAGEX_BACKEND) chooses where pieces go; --help
    # prints the usage and exits 0; download KEY DIR names the file it wrote.
    import os
    src = random_file(300_000)
    store = tmp_path / "store"
    up = run(storagex_command, "--backend", "dir:%s" % store, "upload", str(src))
    assert up.returncode == 0, up.stderr
    key = up.stdout.splitlines()[-1].rsplit(" ", 1)[1]
    assert key.startswith("file://%s/" % store), key
    assert any(store.rglob("*.png"))
    env = dict(os.environ, STORAGEX_BACKEND="dir:%s" % (tmp_path / "env-store"))
    up2 = subprocess.run([storagex_command, "upload", str(src)], capture_output=True, text=True, timeout=60, env=env)
    assert up2.returncode == 0, up2.stderr
    assert "file://%s/" % (tmp_path / "env-store") in up2.stdout
    out_dir = tmp_path / "outdir"
    out_dir.mkdir()
    down = run(storagex_command, "download", key, str(out_dir))
    assert down.returncode == 0, down.stderr
    written = down.stdout.splitlines()[-1].split("the file is ", 1)[1]
    assert written == str(out_dir / src.name)
    assert (out_dir / src.name).read_bytes() == src.read_bytes()
    helped = run(storagex_command, "--help")
    assert helped.returncode == 0 and "--backend URI" in helped.stdout
