"""Where cityrank keeps its state and which database it talks to.

Everything is read from the environment, once, in one place, so that no other module picks
its own defaults. Credentials only ever come from the environment and are never logged.

The home (CITYRANK_HOME) is found the same way from any directory, so a command run from a
subfolder, or from outside the project, never makes a second home with a second PostgreSQL
server: CITYRANK_HOME when set; else, walking up from the current directory, the first folder
holding a `.cityrank` folder, or the first project folder (pyproject.toml beside assets/), whose
`.cityrank` it is; else the `.cityrank` of the project this code runs from.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_PEERS = ("New York", "London", "Paris", "Tokyo", "Singapore", "Hong Kong", "Beijing", "Shanghai")


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str | None
    dagster_database_url: str | None
    focus_city: str
    peers: tuple[str, ...]
    project_root: Path = field(default=PROJECT_ROOT)
    # Processes for the main job's edition runs; 0 = min(4, CPU count).
    workers: int = 0
    # Runs the Dagster daemon lets run at once (dagster.yaml's QueuedRunCoordinator).
    max_concurrent_runs: int = 4
    # Seconds between two ticks of a landing-folder/new-edition sensor (how soon a dropped file is seen).
    sensor_interval: int = 60
    # How the home was found (find_home), for `cityrank status`.
    home_found_by: str = "CITYRANK_HOME"

    @property
    def catalog_dir(self) -> Path:
        return self.project_root / "assets"

    @property
    def sql_dir(self) -> Path:
        return self.project_root / "sql"

    @property
    def expectations_dir(self) -> Path:
        return self.project_root / "expectations"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def raw_dir(self) -> Path:
        return self.home / "raw"

    @property
    def landing_dir(self) -> Path:
        return self.home / "landing"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / "quarantine"

    @property
    def briefs_dir(self) -> Path:
        return self.home / "briefs"

    @property
    def font_cache_dir(self) -> Path:
        """Font subsets the briefs embed, one per character set (fonts.subset_for_text)."""
        return self.home / "cache" / "fonts"

    @property
    def postgres_dir(self) -> Path:
        return self.home / "postgres"


def load_settings(environ: dict | None = None) -> Settings:
    """Read settings from the environment (or a given mapping, for tests)."""
    env = os.environ if environ is None else environ
    project_root = Path(env["CITYRANK_PROJECT_ROOT"]).resolve() if env.get("CITYRANK_PROJECT_ROOT") else PROJECT_ROOT
    if env.get("CITYRANK_HOME"):
        home, found_by = Path(env["CITYRANK_HOME"]).expanduser().resolve(), "CITYRANK_HOME"
    else:
        home, found_by = find_home(Path.cwd(), project_root)
    peers_raw = env.get("CITYRANK_PEERS")
    peers = tuple(p.strip() for p in peers_raw.split(";") if p.strip()) if peers_raw else DEFAULT_PEERS
    return Settings(
        home=home,
        database_url=env.get("CITYRANK_DATABASE_URL") or None,
        dagster_database_url=env.get("CITYRANK_DAGSTER_DATABASE_URL") or None,
        focus_city=(env.get("CITYRANK_FOCUS_CITY") or "Seoul").strip(),
        peers=peers,
        project_root=project_root,
        workers=_workers(env.get("CITYRANK_WORKERS")),
        max_concurrent_runs=_positive(env.get("CITYRANK_MAX_CONCURRENT_RUNS"), "CITYRANK_MAX_CONCURRENT_RUNS", 4),
        sensor_interval=_positive(env.get("CITYRANK_SENSOR_INTERVAL_SECONDS"), "CITYRANK_SENSOR_INTERVAL_SECONDS", 60),
        home_found_by=found_by,
    )


HOME_DIR_NAME = ".cityrank"


def find_home(start: Path, project_root: Path = PROJECT_ROOT) -> tuple[Path, str]:
    """(home, how it was found) when CITYRANK_HOME is not set; see the module docstring."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / HOME_DIR_NAME).is_dir():
            return folder / HOME_DIR_NAME, f"the {HOME_DIR_NAME} folder in {folder}"
        if (folder / "pyproject.toml").is_file() and (folder / "assets").is_dir():
            return folder / HOME_DIR_NAME, f"the project folder {folder}"
    return project_root / HOME_DIR_NAME, f"the project cityrank runs from ({project_root}), outside any project folder"


def _positive(raw: str | None, name: str, default: int) -> int:
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise ValueError(f"{name} must be 1 or more")
    return value


def _workers(raw: str | None) -> int:
    if not raw:
        return 0
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"CITYRANK_WORKERS must be a whole number, not {raw!r}") from None
    if value < 0:
        raise ValueError("CITYRANK_WORKERS must be 0 (automatic) or more")
    return value
