"""Get a home ready for a command: catalog loaded, focus city checked, database up and migrated.

Kept apart from runner.py (which imports Dagster, ~2 s) so that commands that only read the
warehouse — scorecard, path, brief, calendar, status — start in a fraction of that.
"""

from __future__ import annotations

from .catalog import Catalog, load_catalog
from .database import DatabaseTarget
from .migrations import ready_database
from .settings import Settings


def prepare(settings: Settings) -> tuple[DatabaseTarget, Catalog]:
    """Database up (embedded or configured), migrations applied, catalog and focus city valid."""
    from .focus import focus_config

    catalog = load_catalog(settings.catalog_dir)
    focus_config(settings, catalog)  # a misspelt focus or peer city fails here, before any run
    return ready_database(settings), catalog
