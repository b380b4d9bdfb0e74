"""`cityrank serve`: Dagster's webserver, daemon and a gRPC code server as one foreground service.

`cityrank ui` runs `dagster dev`, which is for a developer's terminal. A server wants the
production processes: a gRPC code server that loads `cityrank_pipeline.definitions` (and
starts each run as its own child process), the daemon (schedules, sensors, the run queue,
retries) and the webserver, the last two reading the code location over gRPC. This module
supervises them so that whoever started `cityrank serve` — a terminal, a script's `&`,
systemd, a container's init — stops all of it with one SIGTERM or SIGINT:

- Each child gets its own process group, so a terminal's Ctrl-C reaches the supervisor first
  and the supervisor decides the order; the run workers a code server starts share its group.
- The supervisor installs its own SIGINT/SIGTERM handlers before starting anything. A shell
  without job control starts `cmd &` with SIGINT *ignored*, and an ignored signal stays
  ignored across exec: that is why `dagster dev` started from a script never stopped. A
  handled signal is reset to the default on exec, so the children stop when told.
- Stopping: SIGTERM to every group, a grace period, then SIGKILL; every child is reaped.
  On Linux the supervisor is also the children's subreaper, so a grandchild whose parent died
  first is re-parented here and stopped too rather than left behind.
- A child that exits on its own stops the rest; the exit status is then 1. A signal gives 0.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .settings import Settings

CODE_LOCATION_MODULE = "cityrank_pipeline.definitions"
GRACE_SECONDS = 15.0
READY_TIMEOUT = 180.0
_PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True)
class Child:
    name: str
    command: list[str]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


class PortTaken(RuntimeError):
    pass


def code_server_port(host: str, ui_port: int) -> int:
    """A free port for the code server that cannot be the UI's.

    The UI's port is held bound while the kernel picks the code server's: otherwise the kernel
    may hand out the UI's port again (seen in CI, where a caller had just probed and released
    it), and the webserver then finds the code server's gRPC listener on its own address.
    Holding it also answers early, and by name, when something else already listens there.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            held.bind((host, ui_port))
        except OSError as exc:
            raise PortTaken(f"cannot serve the UI on {host}:{ui_port}: {exc.strerror}; "
                            f"choose another with --port") from None
        return free_port()


def grpc_workspace_yaml(port: int) -> str:
    # The location keeps the module's name, so schedule and sensor state set through
    # workspace.yaml (`cityrank schedules start`) is the state the daemon reads here.
    return ("# Written by cityrank serve: the webserver and daemon read the code location over gRPC.\n"
            "load_from:\n"
            "  - grpc_server:\n"
            "      host: 127.0.0.1\n"
            f"      port: {port}\n"
            f"      location_name: {CODE_LOCATION_MODULE}\n")


def code_server_command(host: str, port: int, working_directory: Path) -> list[str]:
    """The code server: the same entry the container image runs (deploy/Dockerfile)."""
    return [sys.executable, "-m", "dagster", "api", "grpc", "--module-name", CODE_LOCATION_MODULE,
            "--attribute", "defs", "--host", host, "--port", str(port), "--working-directory", str(working_directory),
            "--use-python-environment-entry-point"]


def production_children(settings: Settings, *, host: str, port: int, grpc_port: int,
                        workspace: Path) -> tuple[Child, list[Child]]:
    """The code server (started first) and the processes that need it."""
    python = sys.executable
    code_server = Child("code-server", code_server_command("127.0.0.1", grpc_port, settings.project_root))
    return code_server, [
        Child("daemon", [python, "-m", "dagster._daemon", "run", "--workspace", str(workspace)]),
        Child("webserver", [python, "-m", "dagster_webserver", "--host", host, "--port", str(port),
                            "--workspace", str(workspace)]),
    ]


def _become_subreaper() -> None:
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - not fatal: groups still cover runs
            pass


def _children_of(pid: int) -> list[int]:
    """Processes whose parent is `pid` (Linux /proc; empty elsewhere)."""
    found = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4 is the parent pid; the command name (field 2) may hold spaces, so split after it.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


class Supervisor:
    """Start children in their own process groups; stop all of them on a signal or a death."""

    def __init__(self, *, grace: float = GRACE_SECONDS, log=None):
        self.grace = grace
        self.processes: dict[str, subprocess.Popen] = {}
        self.stop_signal: int | None = None
        self.log = log or (lambda message: print(f"cityrank serve: {message}", flush=True))

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        _become_subreaper()

    def _on_signal(self, signum, frame) -> None:
        if self.stop_signal is None:
            self.stop_signal = signum

    def start(self, child: Child, env: dict, cwd: Path) -> subprocess.Popen:
        # stderr joins stdout: one stream for journald, `docker logs` or a redirect.
        process = subprocess.Popen(child.command, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                   stderr=subprocess.STDOUT, process_group=0)
        self.processes[child.name] = process
        self.log(f"started {child.name} (pid {process.pid})")
        return process

    def exited(self) -> tuple[str, int] | None:
        for name, process in self.processes.items():
            code = process.poll()
            if code is not None:
                return name, code
        return None

    def wait_for_port(self, port: int, timeout: float = READY_TIMEOUT) -> bool:
        """Wait until 127.0.0.1:port accepts; False when a child died or a signal came first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.stop_signal is not None or self.exited():
                return False
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.settimeout(0.5)
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    return True
            time.sleep(0.2)
        return False

    def wait(self) -> int:
        """Block until a signal arrives or a child exits; then stop everything. The exit status."""
        while self.stop_signal is None and self.exited() is None:
            time.sleep(0.2)
        return self.stop_all()

    def stop_all(self, failure: str | None = None) -> int:
        """Stop every child; 0 when asked to by a signal, 1 when a child died or `failure` says why."""
        died = self.exited() if self.stop_signal is None else None
        if self.stop_signal is not None:
            self.log(f"received {signal.Signals(self.stop_signal).name}; stopping")
        else:
            failure = failure or f"{died[0]} exited with status {died[1]}"
            self.log(f"{failure}; stopping the others")
        # The daemon first, so no new run is launched into a code server that is going away.
        for name in sorted(self.processes, key=lambda n: n != "daemon"):
            self._signal_group(self.processes[name], signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        while time.monotonic() < deadline and any(p.poll() is None for p in self.processes.values()):
            time.sleep(0.1)
        for name, process in self.processes.items():
            if process.poll() is None:
                self.log(f"{name} did not stop within {self.grace:.0f} s; killing it")
            self._signal_group(process, signal.SIGKILL)  # whatever is left in its group
            process.wait()
        self._stop_strays()
        self.log("stopped")
        return 0 if self.stop_signal is not None else 1

    @staticmethod
    def _signal_group(process: subprocess.Popen, signum: int) -> None:
        try:
            os.killpg(process.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    def _stop_strays(self) -> None:
        """Descendants that left their group and were re-parented to us (we are subreaper)."""
        for signum in (signal.SIGTERM, signal.SIGKILL):
            strays = _children_of(os.getpid())
            if not strays:
                return
            for pid in strays:
                try:
                    os.kill(pid, signum)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + (self.grace if signum == signal.SIGTERM else 5.0)
            while time.monotonic() < deadline and _children_of(os.getpid()):
                self._reap()
                time.sleep(0.1)
        self._reap()

    @staticmethod
    def _reap() -> None:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return


def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = 3000, grpc_port: int | None = None) -> int:
    """`cityrank serve`: the production processes in the foreground until SIGTERM/SIGINT."""
    from .runner import open_instance, prepare

    supervisor = Supervisor()
    supervisor.install_signal_handlers()
    target, _ = prepare(settings)  # may start the embedded server, which takes a port of its own
    open_instance(settings, target)  # writes dagster.yaml, exports DAGSTER_HOME and the storage URL
    try:
        grpc_port = grpc_port or code_server_port(host, port)
    except PortTaken as exc:
        supervisor.log(str(exc))
        return 2
    if grpc_port == port:
        supervisor.log(f"the code server and the UI cannot share port {port}")
        return 2
    workspace = settings.dagster_home / "workspace.grpc.yaml"
    workspace.write_text(grpc_workspace_yaml(grpc_port))
    env = os.environ.copy()
    env["PYTHONUNBUFFERED"] = "1"
    code_server, others = production_children(settings, host=host, port=port, grpc_port=grpc_port, workspace=workspace)
    supervisor.log(f"DAGSTER_HOME={settings.dagster_home}; code location {CODE_LOCATION_MODULE} on 127.0.0.1:{grpc_port}")
    supervisor.start(code_server, env, settings.project_root)
    if not supervisor.wait_for_port(grpc_port):
        return supervisor.stop_all(f"the code server did not answer within {READY_TIMEOUT:.0f} s")
    for child in others:
        supervisor.start(child, env, settings.project_root)
    supervisor.log(f"Dagster UI on http://{host}:{port}; SIGTERM or Ctrl-C stops everything")
    return supervisor.wait()


def dev_ui(settings: Settings, *, port: int = 3000) -> int:
    """`cityrank ui`: `dagster dev` for a developer, stopped as cleanly as `serve`."""
    from .runner import open_instance, prepare

    supervisor = Supervisor()
    supervisor.install_signal_handlers()
    target, _ = prepare(settings)
    open_instance(settings, target)  # also marks failed the runs a killed cityrank left in flight
    command = [sys.executable, "-m", "dagster", "dev", "-w", str(settings.project_root / "workspace.yaml"),
               "-h", "127.0.0.1", "-p", str(port)]
    supervisor.log(f"Dagster UI (dagster dev) on http://127.0.0.1:{port} (DAGSTER_HOME={settings.dagster_home}); "
                   "for a server use `cityrank serve`")
    supervisor.start(Child("dagster dev", command), os.environ.copy(), settings.project_root)
    return supervisor.wait()
