"""`cityrank serve` and its two ports: the UI's, given by the operator, and the code server's,
picked free. CI once saw the kernel hand the code server the very port the UI was to use, and
the webserver's address answered in gRPC; the UI port is now held while the other is picked,
and a UI port already in use is refused by name before any child starts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from cityrank_pipeline.serve import PortTaken, code_server_port
from conftest import REPO


def listening(host: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((host, 0))
    sock.listen()
    return sock


def test_the_code_server_port_is_never_the_ui_port():
    # Release-and-reuse is what the kernel does with a just-freed port; hold it as serve does.
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            ui = probe.getsockname()[1]
        assert code_server_port("127.0.0.1", ui) != ui


def test_a_ui_port_in_use_is_named():
    with listening() as taken:
        port = taken.getsockname()[1]
        with pytest.raises(PortTaken, match=f"127.0.0.1:{port}.*--port"):
            code_server_port("127.0.0.1", port)


def test_serve_on_a_taken_ui_port_exits_2_and_starts_no_child(tmp_path, database_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYRANK_", "DAGSTER_"))}
    env.update(CITYRANK_HOME=str(tmp_path / "home"), CITYRANK_DATABASE_URL=database_url,
               CITYRANK_PROJECT_ROOT=str(REPO))
    with listening() as taken:
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "cityrank_pipeline.cli", "serve", "--port", str(port)],
                                env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"cannot serve the UI on 127.0.0.1:{port}" in result.stdout
    assert "started code-server" not in result.stdout
