"""The focus city and its peers, written from settings into `meta` for the mart views.

The views must not carry "Seoul" as a literal: another city government runs the same
warehouse by changing CITYRANK_FOCUS_CITY. Settings name cities as people write them; here
they are resolved through the reviewed city list (names and aliases, compared the same way
printed names are), so a typo fails with the name instead of producing empty views.

Writing is idempotent and write-free when nothing changed, because the mart asset calls it on
every refresh and a re-run must leave the warehouse byte-identical.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import psycopg

from .catalog import Catalog, normalise_name
from .settings import Settings

# Serialises concurrent writers (two refreshes at once) without blocking readers.
FOCUS_LOCK_KEY = 727_002


class FocusConfigError(ValueError):
    """A configured focus or peer city is not in the reviewed city list. The message names it."""


@dataclass(frozen=True)
class FocusConfig:
    focus_key: str
    peer_keys: tuple[str, ...]


def resolve_city(catalog: Catalog, name: str, *, setting: str = "CITYRANK_FOCUS_CITY") -> str:
    """The city key for a name, alias or key, compared case- and punctuation-insensitively;
    FocusConfigError naming it, with the closest known names, when unknown.

    Every place that takes a city from a person (settings, `--city` options) comes through
    here, so a name accepted in one place is accepted everywhere and a typo is refused everywhere.
    """
    wanted = normalise_name(name)
    for city in catalog.cities.cities:
        if city.key == name or any(normalise_name(label) == wanted for label in (city.name, *city.aliases)):
            return city.key
    close = closest_cities(catalog, name)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    raise FocusConfigError(
        f"{setting}: {name!r} is not a city in {catalog.directory / 'cities.yaml'}{hint} "
        "(use a canonical name or alias listed there)"
    )


def closest_cities(catalog: Catalog, name: str, limit: int = 3) -> list[str]:
    """Canonical names of the cities whose name or alias reads closest to `name` (difflib)."""
    labels: dict[str, str] = {}
    for city in catalog.cities.cities:
        for label in (city.name, *city.aliases):
            labels.setdefault(normalise_name(label), city.name)
    matches = difflib.get_close_matches(normalise_name(name), list(labels), n=limit * 3, cutoff=0.6)
    return list(dict.fromkeys(labels[m] for m in matches))[:limit]


def city_name(catalog: Catalog, name: str, *, setting: str) -> str:
    """The canonical name of the city a person typed (see resolve_city)."""
    return catalog.city_by_key[resolve_city(catalog, name, setting=setting)].name


def focus_config(settings: Settings, catalog: Catalog) -> FocusConfig:
    """Resolve settings to keys: peers deduplicated in order, the focus city never its own peer."""
    focus = resolve_city(catalog, settings.focus_city)
    peers: list[str] = []
    for name in settings.peers:
        key = resolve_city(catalog, name, setting="CITYRANK_PEERS")
        if key != focus and key not in peers:
            peers.append(key)
    return FocusConfig(focus, tuple(peers))


def read_focus_config(conn: psycopg.Connection) -> FocusConfig | None:
    row = conn.execute("SELECT city_key FROM meta.focus_city").fetchone()
    if row is None:
        return None
    peers = conn.execute("SELECT city_key FROM meta.peer_city ORDER BY position").fetchall()
    return FocusConfig(row[0], tuple(p[0] for p in peers))


def write_focus_config(conn: psycopg.Connection, settings: Settings, catalog: Catalog) -> bool:
    """Store the configured focus city and peers; returns True when anything was written.

    Resolution happens before any write, so an unknown city leaves the stored configuration
    as it was. Callers refresh materialised views afterwards when this returns True.
    """
    wanted = focus_config(settings, catalog)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (FOCUS_LOCK_KEY,))
        if read_focus_config(conn) == wanted:
            return False
        conn.execute(
            """INSERT INTO meta.focus_city (singleton, city_key) VALUES (true, %s)
               ON CONFLICT (singleton) DO UPDATE SET city_key = EXCLUDED.city_key
               WHERE meta.focus_city.city_key IS DISTINCT FROM EXCLUDED.city_key""",
            (wanted.focus_key,),
        )
        conn.execute("DELETE FROM meta.peer_city")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO meta.peer_city (city_key, position) VALUES (%s, %s)",
                            [(key, position) for position, key in enumerate(wanted.peer_keys, start=1)])
    return True
