"""Printed city names → canonical cities, through the reviewed alias file.

Publishers print the same city differently ("Washington, D.C.", "Washington D.C.",
"Washington DC"); the mapping is data (assets/cities.yaml plus each index's `city_aliases`),
reviewed by a person, never guessed. A name that maps to nothing is left unmapped here and
fails validation with the name in the message.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .catalog import Catalog, IndexEntry, normalise_name


@dataclass(frozen=True)
class HarmoniseReport:
    unmapped: list[str]
    unused_index_aliases: list[str]


def build_lookup(catalog: Catalog, entry: IndexEntry) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for city in catalog.cities.cities:
        for label in (city.name, *city.aliases):
            lookup[normalise_name(label)] = city.key
    for printed, key in entry.city_aliases.items():
        lookup[normalise_name(printed)] = key  # index-specific spellings win
    return lookup


def harmonise_cities(frame: pd.DataFrame, catalog: Catalog, entry: IndexEntry) -> tuple[pd.DataFrame, HarmoniseReport]:
    """Add `city_key` (None where unmapped) beside the printed `city` column."""
    lookup = build_lookup(catalog, entry)
    keys = frame["city"].map(lambda name: lookup.get(normalise_name(name)))
    out = frame.assign(city_key=keys.astype(object).where(keys.notna(), None))
    unmapped = sorted(set(out.loc[out["city_key"].isna(), "city"]))
    used = {normalise_name(c) for c in frame["city"]}
    unused = sorted(p for p in entry.city_aliases if normalise_name(p) not in used)
    return out, HarmoniseReport(unmapped=unmapped, unused_index_aliases=unused)
