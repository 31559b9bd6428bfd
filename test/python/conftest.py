"""Shared fixtures of the Python tests (docs/DEVELOPING.md).

They run against the package installed in .venv, from outside the source
tree (a package folder in the current directory would shadow the installed
one): `cd /tmp && .venv/bin/python -m pytest test/python`. Every test gets
its own local store and state directory through XDG_DATA_HOME/XDG_STATE_HOME.
"""

import os
import pathlib
import shutil

import pytest

SOURCE_ROOT = pathlib.Path(__file__).resolve().parents[2]
V1_READER = SOURCE_ROOT / "test" / "servers" / "storagex_v1_reader.py"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def random_file(tmp_path):
    def make(size, name="input.bin"):
        path = tmp_path / name
        path.write_bytes(os.urandom(size))
        return path
    return make


@pytest.fixture
def sxengine_cli():
    """The sxengine program: $SXENGINE_CLI (setup.sh sets it), else build/sxengine."""
    path = os.environ.get("SXENGINE_CLI") or str(SOURCE_ROOT / "build" / "sxengine")
    if not os.access(path, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail("the sxengine program is missing: %s" % path)
        pytest.skip("the sxengine program is not built: %s" % path)
    return path


@pytest.fixture
def storagex_command():
    """The storagex console script installed beside this interpreter."""
    import sys
    path = pathlib.Path(sys.executable).parent / "storagex"
    if not path.exists():
        path = shutil.which("storagex")
    assert path, "the storagex console script is not installed"
    return str(path)
