"""`cityrank schedules` / `cityrank sensors`: list, start and stop Dagster's automations.

Dagster's own `dagster schedule start` needs DAGSTER_HOME and the storage URL exported by hand
and loads the code location once per command (a few seconds each, so stopping every schedule
one by one took a minute). These commands prepare the instance exactly as `cityrank run` does
(CITYRANK_HOME is all they need), load the location once from workspace.yaml and change the
state the daemon reads. A running `cityrank serve` picks the change up on its next tick.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import dagster as dg

from .settings import Settings

KINDS = ("schedule", "sensor")


class AutomationError(ValueError):
    """A name the code location does not define, or a command without a target."""


@dataclass(frozen=True)
class AutomationState:
    name: str
    running: bool
    detail: str  # the cron of a schedule, the kind of a sensor


@contextmanager
def remote_repository(settings: Settings) -> Iterator[tuple[dg.DagsterInstance, object]]:
    """The persistent instance and the code location's repository, loaded from workspace.yaml."""
    from dagster import __version__
    from dagster._cli.workspace.cli_target import get_repository_from_cli_opts
    from dagster_shared.cli import WorkspaceOpts

    from .runner import open_instance, prepare

    target, _ = prepare(settings)
    instance = open_instance(settings, target)
    workspace = WorkspaceOpts(workspace=[str(settings.project_root / "workspace.yaml")])
    with _stdout_to_stderr(), get_repository_from_cli_opts(instance, __version__, workspace, None) as repo:
        yield instance, repo


@contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Dagster loads the location in a code-server process that logs to the stdout it inherits;
    those lines belong on stderr, so that stdout carries only the command's answer."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _automations(repo, kind: str) -> list:
    return list(repo.get_schedules() if kind == "schedule" else repo.get_sensors())


def _states(instance: dg.DagsterInstance, repo, kind: str) -> list[AutomationState]:
    from dagster._core.scheduler.instigation import InstigatorType

    instigator = InstigatorType.SCHEDULE if kind == "schedule" else InstigatorType.SENSOR
    stored = {s.instigator_origin_id: s for s in
              instance.all_instigator_state(repo.get_remote_origin_id(), repo.selector_id, instigator_type=instigator)}
    out = []
    for item in _automations(repo, kind):
        state = item.get_current_instigator_state(stored.get(item.get_remote_origin_id()))
        detail = item.cron_schedule if kind == "schedule" else item.sensor_type.value.lower()
        out.append(AutomationState(item.name, state.is_running, str(detail)))
    return sorted(out, key=lambda s: s.name)


def list_automations(settings: Settings, kind: str) -> list[AutomationState]:
    with remote_repository(settings) as (instance, repo):
        return _states(instance, repo, kind)


def set_running(settings: Settings, kind: str, names: list[str], *, everything: bool, running: bool) -> list[str]:
    """Start or stop the named schedules/sensors (or all of them); returns the names changed."""
    if not names and not everything:
        raise AutomationError(f"name a {kind} or pass --all")
    with remote_repository(settings) as (instance, repo):
        by_name = {item.name: item for item in _automations(repo, kind)}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise AutomationError(f"no {kind} named {', '.join(unknown)}; `cityrank {kind}s list` shows them")
        current = {s.name: s.running for s in _states(instance, repo, kind)}
        chosen = sorted(by_name) if everything else names
        changed = []
        for name in chosen:
            if current[name] == running:
                continue
            item = by_name[name]
            if running:
                (instance.start_schedule if kind == "schedule" else instance.start_sensor)(item)
            else:
                (instance.stop_schedule if kind == "schedule" else instance.stop_sensor)(
                    item.get_remote_origin_id(), item.selector_id, item)
            changed.append(name)
        return changed


def format_states(states: list[AutomationState]) -> str:
    width = max((len(s.name) for s in states), default=4)
    lines = [f"{'name':<{width}}  {'status':<8} detail"]
    lines += [f"{s.name:<{width}}  {'RUNNING' if s.running else 'STOPPED':<8} {s.detail}" for s in states]
    return "\n".join(lines)
