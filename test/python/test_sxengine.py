"""The sxengine module: round trips, options, errors, progress, Ctrl-C."""

import os
import signal
import threading

import pytest

import sxengine


def test_round_trip_default_options(random_file, tmp_path):
    src = random_file(3_000_000)
    storage = sxengine.Storage()
    key = storage.upload(src)
    assert key.startswith("file://") and "#k=" in key  # the local store; encrypted by default
    out = storage.download(key, tmp_path / "out.bin")
    assert out == str(tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == src.read_bytes()


def test_a_directory_is_one_tree_key(tmp_path):
    src = tmp_path / "album"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.bin").write_bytes(os.urandom(70_000))
    (src / "b.txt").write_text("b")
    (src / "link").symlink_to("b.txt")
    storage = sxengine.Storage(backend="dir:%s" % (tmp_path / "store"), piece_size=16 * 1024)
    key = storage.upload(src)
    entries = storage.list(key)
    assert [e["path"] for e in entries] == ["album", "album/b.txt", "album/link", "album/sub", "album/sub/a.bin"]
    assert entries[2]["type"] == "link" and entries[2]["target"] == "b.txt"
    assert storage.info(key)["files"] == 2 and storage.info(key)["entries"] == 5
    out = storage.download(key, tmp_path / "out")
    assert out == str(tmp_path / "out")
    assert (tmp_path / "out" / "album" / "sub" / "a.bin").read_bytes() == (src / "sub" / "a.bin").read_bytes()
    assert os.readlink(tmp_path / "out" / "album" / "link") == "b.txt"
    # Several paths, and only a part of them pulled back.
    key2 = storage.upload([src / "b.txt", src / "sub"])
    part = sxengine.Storage(backend="dir:%s" % (tmp_path / "store"), include=["sub/*"])
    part.download(key2, tmp_path / "part")
    assert sorted(p.name for p in (tmp_path / "part").rglob("*")) == ["a.bin", "sub"]
    assert [e["path"] for e in storage.list(storage.upload(src / "b.txt"))] == ["b.txt"]


def test_a_tree_reports_each_file(tmp_path):
    src = tmp_path / "set"
    src.mkdir()
    for i in range(3):
        (src / ("f%d" % i)).write_bytes(os.urandom(1000 * (i + 1)))
    events = []
    storage = sxengine.Storage(backend="dir:%s" % (tmp_path / "store"), progress=events.append)
    key = storage.upload(src)
    files = [e for e in events if e["event"] == "file"]
    assert sorted((e["path"], e["bytes"]) for e in files) == [("set/f0", 1000), ("set/f1", 2000), ("set/f2", 3000)]
    assert [e["done"] for e in files] == [1, 2, 3] and {e["files"] for e in files} == {3}
    events.clear()
    storage.download(key, tmp_path / "out")
    assert sorted(e["path"] for e in events if e["event"] == "file") == ["set/f0", "set/f1", "set/f2"]


def test_options_as_keywords(random_file, tmp_path):
    src = random_file(1_000_000)
    storage = sxengine.Storage(backend="dir:%s" % (tmp_path / "store"), piece_size=64 * 1024, parallel=4,
                               workers=2, encrypt=False, compress="none", retries=2, sha256=True, level=1)
    key = storage.upload(str(src), name="renamed.bin")
    assert key.startswith("file://%s/" % (tmp_path / "store")) and "#" not in key
    info = storage.info(key)
    assert info["name"] == "renamed.bin"
    assert info["size"] == 1_000_000
    assert info["pieces"] == (1_000_000 + 65535) // 65536
    assert info["encryption"] == "none"
    assert info["format"] == "sxengine v2"
    import hashlib
    assert info["sha256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    report = storage.verify(key)
    assert report["ok"] and report["problems"] == [] and report["pieces"] == info["pieces"]
    # A directory as OUT: the stored name goes inside.
    (tmp_path / "dir").mkdir()
    out = storage.download(key, tmp_path / "dir")
    assert out == str(tmp_path / "dir" / "renamed.bin")
    assert (tmp_path / "dir" / "renamed.bin").read_bytes() == src.read_bytes()


def test_passphrase_round_trip(random_file, tmp_path):
    src = random_file(200_000)
    key = sxengine.Storage(passphrase="correct horse").upload(src)
    assert "#s=" in key
    with pytest.raises(sxengine.CorruptError):
        sxengine.Storage(passphrase="wrong").download(key, tmp_path / "bad.bin")
    assert not (tmp_path / "bad.bin").exists()
    sxengine.Storage(passphrase="correct horse").download(key, tmp_path / "good.bin")
    assert (tmp_path / "good.bin").read_bytes() == src.read_bytes()


def test_remove(random_file, tmp_path):
    storage = sxengine.Storage(backend="dir:%s" % (tmp_path / "store"))
    key = storage.upload(random_file(100_000))
    report = storage.remove(key)
    assert report["removed"] == report["objects"] > 0
    with pytest.raises(sxengine.NotFoundError):
        storage.info(key)


def test_errors_carry_the_engine_message(random_file, tmp_path):
    storage = sxengine.Storage()
    with pytest.raises(sxengine.NotFoundError, match="nope.png") as caught:
        storage.info("file://%s/nope.png" % tmp_path)
    assert caught.value.code == "not found"
    assert isinstance(caught.value, sxengine.Error)
    with pytest.raises(sxengine.NotFoundError, match="missing.bin"):
        storage.upload(tmp_path / "missing.bin")
    with pytest.raises(sxengine.UsageError, match="not a download key"):
        storage.download("garbage")
    not_a_key = tmp_path / "not-a-key.png"
    not_a_key.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    with pytest.raises(sxengine.CorruptError):
        storage.info("file://%s" % not_a_key)
    key = storage.upload(random_file(1000))
    (tmp_path / "exists.bin").write_bytes(b"mine")
    with pytest.raises(sxengine.UsageError, match="exists"):
        storage.download(key, tmp_path / "exists.bin")
    assert (tmp_path / "exists.bin").read_bytes() == b"mine"  # never replaced without force


def test_bad_options():
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        sxengine.Storage(bogus=1)
    with pytest.raises(TypeError, match="parallel"):
        sxengine.Storage(parallel="8")
    with pytest.raises(sxengine.UsageError, match="parallel=0"):
        sxengine.Storage(parallel=0)
    with pytest.raises(sxengine.UsageError, match="width and height"):
        sxengine.Storage(width=100)
    with pytest.raises(sxengine.UsageError, match="compress"):
        sxengine.Storage(compress="lz4")
    with pytest.raises(TypeError, match="callable"):
        sxengine.Storage(progress=42)


def test_progress_events(random_file, tmp_path):
    events = []
    storage = sxengine.Storage(piece_size=64 * 1024, progress=events.append)
    src = random_file(64 * 1024 * 5 + 7)
    key = storage.upload(src)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "finish"
    assert events[0]["operation"] == "push" and events[0]["total_bytes"] == src.stat().st_size
    pieces = [e for e in events if e["event"] == "piece"]
    assert sorted(e["index"] for e in pieces) == list(range(6))
    assert sum(e["bytes"] for e in pieces) == src.stat().st_size
    events.clear()
    storage.download(key, tmp_path / "out.bin")
    assert events[0]["event"] == "start" and events[0]["operation"] == "pull"
    assert events[-1]["event"] == "finish" and events[-1]["bytes"] == src.stat().st_size


def test_progress_exception_cancels_and_propagates(random_file, tmp_path):
    class Stop(Exception):
        pass

    def progress(event):
        if event["event"] == "piece":
            raise Stop("from the callback")

    storage = sxengine.Storage(piece_size=64 * 1024, progress=progress, resume=False)
    key = sxengine.Storage(piece_size=64 * 1024).upload(random_file(4_000_000))
    with pytest.raises(Stop, match="from the callback"):
        storage.download(key, tmp_path / "out.bin")
    assert not (tmp_path / "out.bin").exists()
    assert [p.name for p in tmp_path.iterdir() if "out.bin" in p.name] == []  # resume=False: no temp file either


def interrupting(storage_options):
    """A Storage whose progress callback sends SIGINT at the first piece and
    then holds that piece until Python's SIGINT handler has run, so the
    transfer cannot finish before Ctrl-C is seen (no timing involved): the
    engine's event queue is bounded (64, fewer than the pieces), and the
    module holds further events until its cancel is in place."""
    handled = threading.Event()
    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum, frame):
        handled.set()
        raise KeyboardInterrupt

    def progress(event):
        if event["event"] == "piece" and not handled.is_set():
            os.kill(os.getpid(), signal.SIGINT)
            assert handled.wait(30), "the SIGINT handler never ran"

    signal.signal(signal.SIGINT, on_sigint)
    return sxengine.Storage(progress=progress, **storage_options), handled, previous


@pytest.mark.parametrize("operation,resume", [("download", False), ("download", True), ("upload", True)])
def test_ctrl_c_cancels_and_leaves_no_partial_file(operation, resume, random_file, tmp_path):
    src = random_file(8_000_000)
    options = dict(piece_size=64 * 1024, parallel=2, workers=2, backend="dir:%s" % (tmp_path / "store"),
                   resume=resume)
    key = sxengine.Storage(**options).upload(src)
    storage, handled, previous = interrupting(options)
    out = tmp_path / "out"
    out.mkdir()
    try:
        with pytest.raises(KeyboardInterrupt):
            if operation == "download":
                storage.download(key, out / "file.bin")
            else:
                storage.upload(src, name="second")
    finally:
        signal.signal(signal.SIGINT, previous)
    assert handled.is_set()
    assert not (out / "file.bin").exists()  # never a partial file under the final name
    left = sorted(p.name for p in out.iterdir())
    if resume and operation == "download":
        # resume=True (the default, as the CLI's) keeps the hidden temp file
        # of the pieces written so far for the next download to continue.
        assert all(name.startswith(".") for name in left), left
    else:
        assert left == []
    # The same call again completes (resuming when it can) and leaves only the file.
    again = sxengine.Storage(**options)
    if operation == "download":
        again.download(key, out / "file.bin")
        assert (out / "file.bin").read_bytes() == src.read_bytes()
        assert sorted(p.name for p in out.iterdir()) == ["file.bin"]
    else:
        again.download(again.upload(src, name="second"), out / "file.bin")
        assert (out / "file.bin").read_bytes() == src.read_bytes()


def test_transfers_release_the_gil(random_file, tmp_path):
    # Two threads push the same file and pull it back at once, through one
    # Storage each; the progress callback of one waits (once, bounded) for
    # the other's first piece while that one runs in C++: with the GIL held
    # by a waiting call this would deadlock. The second push of the same
    # file goes on without a journal (the first holds it): both keys pull.
    src = random_file(2_000_000)
    seen = {0: threading.Event(), 1: threading.Event()}
    results, errors = {}, {}

    def run(i):
        def progress(event, i=i):
            if event["event"] == "piece" and not seen[i].is_set():
                seen[i].set()
                seen[1 - i].wait(20)  # meet the other transfer mid-flight
        try:
            storage = sxengine.Storage(piece_size=64 * 1024, progress=progress)
            results[i] = storage.download(storage.upload(src), tmp_path / ("out%d" % i))
        except Exception as error:  # reported below, never a hang
            errors[i] = error
            seen[i].set()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert not any(t.is_alive() for t in threads), "a transfer hung"
    assert not errors, errors
    assert seen[0].is_set() and seen[1].is_set()
    for i in (0, 1):
        assert (tmp_path / ("out%d" % i)).read_bytes() == src.read_bytes()


def test_one_operation_at_a_time(random_file):
    storage = None
    inside = []

    def progress(event):
        if event["event"] == "piece" and not inside:
            inside.append(True)
            with pytest.raises(sxengine.UsageError, match="another operation"):
                storage.info("file:///nowhere.png")

    storage = sxengine.Storage(piece_size=64 * 1024, progress=progress)
    storage.upload(random_file(300_000))
    assert inside


def test_version():
    assert sxengine.__version__ and sxengine.version().startswith("sxengine " + sxengine.__version__)


def test_the_stubs_are_installed_and_match_the_keywords():
    import ast
    import pathlib
    package = pathlib.Path(sxengine.__file__).parent
    assert (package / "py.typed").exists()
    stub = ast.parse((package / "_sxengine.pyi").read_text())
    storage = next(n for n in stub.body if isinstance(n, ast.ClassDef) and n.name == "Storage")
    init = next(n for n in storage.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    keywords = [a.arg for a in init.args.kwonlyargs]
    assert "backend" in keywords and "piece_size" in keywords and "progress" in keywords
    for name in keywords:  # every stubbed keyword is one Storage() knows (a wrong type, not an unknown name)
        with pytest.raises(TypeError) as caught:
            sxengine.Storage(**{name: object()})
        assert "unexpected keyword" not in str(caught.value), name
    methods = {n.name for n in storage.body if isinstance(n, ast.FunctionDef)} - {"__init__"}
    assert methods == {m for m in dir(sxengine.Storage) if not m.startswith("_")}


@pytest.fixture
def http_status_server():
    """A server on 127.0.0.1 that answers every request with one status."""
    import http.server

    class Handler(http.server.BaseHTTPRequestHandler):
        status = 200

        def do_GET(self):
            self.send_response(self.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    servers = []

    def start(status):
        handler = type("Handler%d" % status, (Handler,), {"status": status})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return "http://127.0.0.1:%d/" % server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_http_errors_map_to_their_classes(http_status_server):
    storage = sxengine.Storage(retries=0)
    with pytest.raises(sxengine.AuthError) as caught:
        storage.info(http_status_server(403) + "manifest.png")
    assert caught.value.code == "denied" and "403" in str(caught.value)
    with pytest.raises(sxengine.NotFoundError, match="404"):
        storage.info(http_status_server(404) + "manifest.png")
    with pytest.raises(sxengine.NetworkError) as caught:
        storage.info(http_status_server(503) + "manifest.png")
    assert caught.value.code == "unavailable"


def test_cancel_from_another_thread(random_file, tmp_path):
    src = random_file(4_000_000)
    options = dict(piece_size=64 * 1024, resume=False, backend="dir:%s" % (tmp_path / "store"))
    key = sxengine.Storage(**options).upload(src)
    started, cancelled = threading.Event(), threading.Event()

    def progress(event):
        if event["event"] == "piece" and not started.is_set():
            started.set()
            assert cancelled.wait(30)  # hold the transfer until cancel() ran

    storage = sxengine.Storage(progress=progress, **options)
    outcome = {}

    def download():
        try:
            storage.download(key, tmp_path / "out.bin")
        except sxengine.Error as error:
            outcome["error"] = error

    worker = threading.Thread(target=download)
    worker.start()
    assert started.wait(30)
    storage.cancel()
    cancelled.set()
    worker.join(30)
    assert isinstance(outcome.get("error"), sxengine.CancelledError), outcome
    assert not (tmp_path / "out.bin").exists()


def test_striped_push_repair_and_stripe_fields(random_file, tmp_path):
    # backends=[...] and parity= as the CLI's repeated --backend and --parity;
    # info and verify carry the stripe fields; repair puts a lost piece back.
    dirs = [tmp_path / name for name in ("a", "b", "c")]
    storage = sxengine.Storage(backends=["dir:%s" % d for d in dirs], parity=1, piece_size=64 * 1024)
    src = random_file(700_000)
    key = storage.upload(src)
    info = storage.info(key)
    assert (info["stripe_data"], info["stripe_parity"], info["manifest_copies"]) == (2, 1, 3)
    assert info["stripes"] > 0
    pieces = sorted(p for p in dirs[1].rglob("*.png") if p.stat().st_size > 60_000)
    pieces[0].unlink()
    report = storage.verify(key)
    assert not report["ok"] and report["recoverable"] and report["unrecoverable_stripes"] == []
    assert [b["missing"] for b in report["backends"]].count(0) == 2
    repaired = storage.repair(key)
    assert repaired["key"] == key and not repaired["key_changed"]
    assert repaired["data_pieces"] + repaired["parity_pieces"] == 1
    assert storage.verify(key)["ok"]
    out = storage.download(key, tmp_path / "out.bin")
    assert open(out, "rb").read() == src.read_bytes()
    with pytest.raises(sxengine.UsageError, match="not both"):
        sxengine.Storage(backend="dir:/x", backends=["dir:/y", "dir:/z"])
    with pytest.raises(TypeError):
        sxengine.Storage(backends="dir:/x")
