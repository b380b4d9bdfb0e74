"""Global Power City Index (Mori Memorial Foundation): the publisher's data file, as JSON.

Mori's GPCI web simulator is driven by one JSON file per edition (``gpci2023_en.json``): a
list with one object per city. The layouts this parser knows:

* indicator keys ``NN_<group>_<function>_<indicator name>`` (``01_Ec1_Ec_Nominal GDP``) and
  the city under ``City Name`` — the 2023 file;
* indicator keys ``NN_<indicator name>`` without group codes and the city under ``city`` —
  older editions;
* no indicator keys at all, only function scores and ``total`` (``gpci2023_f.json``).

Function scores are keyed by their printed names (``Economy``, ``R&D`` ...) and the total by
``Comprehensive`` or ``total``; which printed names mean which measure is catalog data
(assets/gpci.yaml: names and aliases), as are the indicators' names, numbers and group codes.
An indicator key is accepted only when its printed name is a catalog indicator (name or
alias) *and* its printed number, group code and function code agree with the catalog: a
reworded name is an alias someone reviewed, a renumbered or regrouped one is a methodology
change someone must look at. Anything else — an unknown key, a missing indicator or function,
a duplicate city, a score that is not a finite number, a JSON that is not a list of objects —
raises `LayoutError` naming the file and the key or city. Nothing is guessed.

The file prints no ranks. Every rank is computed here among the edition's cities
(competition ranking: 1, 2, 2, 4; tied rows say so) and marked `rank_computed`. A function
score or total the file does not print is computed from GPCI's additive model — a function is
the sum over its indicator groups of the mean of each group's indicator scores, the total the
sum of the functions — and marked `score_computed`. City names are returned exactly as
printed; harmonising them is a later stage.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

from ..catalog import IndexEntry, Measure, normalise_name
from .base import LayoutError, ScoreRow

CITY_KEYS = ("City Name", "city")
# NN_<Group>_<Function>_<name> (2023) or NN_<name> (older editions).
INDICATOR_KEY = re.compile(r"^(?P<number>\d{1,3})_(?:(?P<group>[A-Za-z]{2}\d{1,2})_(?P<function>[A-Za-z]{2})_)?(?P<name>.+)$")
EDITION_IN_NAME = re.compile(r"gpci(?P<edition>\d{4})", re.IGNORECASE)


@dataclass(frozen=True)
class _CityFigures:
    city: str
    indicators: dict[str, tuple[float, str, int]]  # indicator code -> (score, printed name, printed number)
    printed: dict[str, tuple[float, str]]  # function/total code -> (score, printed key)


def parse_gpci_data_json(data: bytes, source: str, *, edition: str | None = None, options: dict | None = None,
                         entry: IndexEntry | None = None) -> list[ScoreRow]:
    """ScoreRows for every city of one edition: indicators (if printed), functions and total."""
    if entry is None:
        raise ValueError("parse_gpci_data_json needs the GPCI catalog entry (entry=)")
    label = edition or _edition_from_name(source)
    cities = _read_cities(data, source)
    totals = {m.code for m in entry.measures_at("overall")} | {m.code for m in entry.measures_at("sub_index")}
    summary_keys = _summary_key_lookup(entry)
    figures = [_read_city(obj, position, source, entry, summary_keys) for position, obj in enumerate(cities, start=1)]
    _refuse_duplicate_cities(figures, source)
    with_indicators = any(f.indicators for f in figures)
    expected = entry.indicators_in(label) if with_indicators else []
    for f in figures:
        missing = [m for m in expected if m.code not in f.indicators]
        if missing:
            names = ", ".join(f"{m.number:02d} {m.name}" if m.number else m.name for m in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise LayoutError(source, f"city {f.city!r} lacks indicator(s) {names}{more} that edition {label} reports")
        unexpected = sorted(set(f.indicators) - {m.code for m in expected})
        if unexpected:
            raise LayoutError(source, f"city {f.city!r}: indicator(s) {', '.join(unexpected)} are not part of edition "
                                      f"{label} in the catalog (since/until)")

    scores: dict[str, dict[str, tuple[float, bool, str | None, int | None]]] = {f.city: {} for f in figures}
    for f in figures:
        for code, (score, printed, number) in f.indicators.items():
            scores[f.city][code] = (score, False, printed, number)
        model = _function_scores(entry, f) if with_indicators else {}
        for function in entry.measures_at("sub_index"):
            if function.code in f.printed:
                score, printed = f.printed[function.code]
                scores[f.city][function.code] = (score, False, printed, None)
            elif function.code in model:
                scores[f.city][function.code] = (model[function.code], True, None, None)
            else:
                raise LayoutError(source, f"city {f.city!r} has no {function.name!r} score and no indicators to compute it from")
        if "total" in f.printed:
            score, printed = f.printed["total"]
            scores[f.city]["total"] = (score, False, printed, None)
        else:
            total = sum(scores[f.city][m.code][0] for m in entry.measures_at("sub_index"))
            scores[f.city]["total"] = (total, True, None, None)
    measure_order = [m.code for m in entry.measures if m.code in totals or m.code in {i.code for i in expected}]
    return _ranked_rows(label, [f.city for f in figures], measure_order, scores)


def _edition_from_name(source: str) -> str:
    found = EDITION_IN_NAME.search(PurePath(source).name)
    if not found:
        raise LayoutError(source, "no edition given and none in the file name (expected 'gpciYYYY...')")
    return found.group("edition")


def _read_cities(data: bytes, source: str) -> list:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LayoutError(source, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        parsed = json.loads(text, object_pairs_hook=lambda pairs: _unique_keys(pairs, source),
                            # NaN/Infinity are read as floats so that the finite-number check
                            # below names the city and the key that hold them.
                            parse_constant=float)
    except json.JSONDecodeError as exc:
        raise LayoutError(source, f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(parsed, list):
        raise LayoutError(source, f"expected a list of city objects at the top level, found a JSON {type(parsed).__name__}")
    if not parsed:
        raise LayoutError(source, "the list of cities is empty")
    return parsed


def _unique_keys(pairs: list[tuple[str, object]], source: str) -> dict:
    seen: dict[str, object] = {}
    for key, value in pairs:
        if key in seen:
            raise LayoutError(source, f"key {key!r} appears twice in one object")
        seen[key] = value
    return seen


def _summary_key_lookup(entry: IndexEntry) -> dict[str, str]:
    """Printed function/total key (folded) -> measure code, from catalog names and aliases."""
    lookup: dict[str, str] = {}
    for m in (*entry.measures_at("overall"), *entry.measures_at("sub_index")):
        for label in (m.name, *m.aliases):
            lookup[normalise_name(label)] = m.code
    return lookup


def _read_city(obj: object, position: int, source: str, entry: IndexEntry, summary_keys: dict[str, str]) -> _CityFigures:
    if not isinstance(obj, dict):
        raise LayoutError(source, f"item {position} of the list is a JSON {type(obj).__name__}, not a city object")
    city_keys = [k for k in CITY_KEYS if k in obj]
    if len(city_keys) != 1:
        raise LayoutError(source, f"item {position}: expected exactly one of {' / '.join(CITY_KEYS)} naming the city, "
                                  f"found {len(city_keys)}")
    city = obj[city_keys[0]]
    if not isinstance(city, str) or not city.strip():
        raise LayoutError(source, f"item {position}: {city_keys[0]!r} is {city!r}, not a city name")
    city = city.strip()
    indicators: dict[str, tuple[float, str, int]] = {}
    printed: dict[str, tuple[float, str]] = {}
    for key, value in obj.items():
        if key == city_keys[0]:
            continue
        score = _score(value, source, city, key)
        code = summary_keys.get(normalise_name(key))
        if code is not None:
            if code in printed:
                raise LayoutError(source, f"city {city!r}: keys {printed[code][1]!r} and {key!r} both give {code}")
            printed[code] = (score, key)
            continue
        measure, name, number = _indicator_of(key, source, city, entry)
        if measure.code in indicators:
            raise LayoutError(source, f"city {city!r}: keys for {measure.code} appear twice (second: {key!r})")
        indicators[measure.code] = (score, name, number)
    return _CityFigures(city, indicators, printed)


def _score(value: object, source: str, city: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LayoutError(source, f"city {city!r}, key {key!r}: {value!r} is not a number")
    if not math.isfinite(value):
        raise LayoutError(source, f"city {city!r}, key {key!r}: {value!r} is not a finite number")
    return float(value)


def _indicator_of(key: str, source: str, city: str, entry: IndexEntry) -> tuple[Measure, str, int]:
    """The catalog indicator a key prints, after checking its number, group and function."""
    found = INDICATOR_KEY.match(key)
    if not found:
        raise LayoutError(source, f"city {city!r}: unknown key {key!r} (neither the city, a function, the total nor "
                                  "an indicator 'NN_name')")
    name, number = found.group("name").strip(), int(found.group("number"))
    measure = entry.indicator_by_name(name)
    if measure is None:
        raise LayoutError(source, f"city {city!r}: key {key!r} names an indicator the catalog does not know "
                                  f"({name!r}; add it, or an alias if it is a rewording)")
    if measure.number != number:
        raise LayoutError(source, f"key {key!r}: printed as number {number}, the catalog numbers {measure.code} "
                                  f"{measure.number}")
    if found.group("group"):
        group = entry.measure(measure.parent)
        function = entry.measure(group.parent)
        if (group.publisher_code or "").casefold() != found.group("group").casefold():
            raise LayoutError(source, f"key {key!r}: printed in group {found.group('group')}, the catalog puts "
                                      f"{measure.code} in {group.publisher_code} ({group.code})")
        if (function.publisher_code or "").casefold() != found.group("function").casefold():
            raise LayoutError(source, f"key {key!r}: printed under function {found.group('function')}, the catalog "
                                      f"puts {group.code} under {function.publisher_code} ({function.code})")
    return measure, name, number


def _refuse_duplicate_cities(figures: Iterable[_CityFigures], source: str) -> None:
    seen: dict[str, str] = {}
    for f in figures:
        folded = normalise_name(f.city)
        if folded in seen:
            raise LayoutError(source, f"city {f.city!r} appears twice (also as {seen[folded]!r})")
        seen[folded] = f.city


def additive_function_scores(entry: IndexEntry, indicator_scores: dict[str, float]) -> dict[str, float]:
    """GPCI's model: each function is the sum over its indicator groups of the mean of the
    group's indicator scores. Functions with a group lacking every indicator are left out."""
    members: dict[str, list[float]] = {}
    for m in entry.measures_at("indicator"):
        if m.code in indicator_scores:
            members.setdefault(m.parent, []).append(indicator_scores[m.code])
    functions: dict[str, float] = {}
    for function in entry.measures_at("sub_index"):
        groups = [g.code for g in entry.measures_at("indicator_group") if g.parent == function.code]
        if groups and all(members.get(g) for g in groups):
            functions[function.code] = sum(sum(members[g]) / len(members[g]) for g in groups)
    return functions


def _function_scores(entry: IndexEntry, figures: _CityFigures) -> dict[str, float]:
    return additive_function_scores(entry, {code: score for code, (score, _, _) in figures.indicators.items()})


def competition_ranks(values: dict[str, float]) -> dict[str, tuple[int, bool]]:
    """Rank keys by value, highest first: equal values share the lower rank (1, 2, 2, 4)."""
    ordered = sorted(values.values(), reverse=True)
    first_at = {}
    for position, value in enumerate(ordered, start=1):
        first_at.setdefault(value, position)
    counts = {value: ordered.count(value) for value in first_at}
    return {key: (first_at[value], counts[value] > 1) for key, value in values.items()}


def _ranked_rows(label: str, cities: list[str], measures: list[str],
                 scores: dict[str, dict[str, tuple[float, bool, str | None, int | None]]]) -> list[ScoreRow]:
    rows = []
    for code in measures:
        ranks = competition_ranks({city: scores[city][code][0] for city in cities})
        for city in cities:
            score, computed, printed, number = scores[city][code]
            rank, tied = ranks[city]
            rows.append(ScoreRow(
                edition=label, city=city, measure=code, score=score, rank=rank, rank_tied=tied,
                confidence="derived" if computed else "reported",
                score_computed=computed, rank_computed=True, measure_printed=printed, measure_number=number,
            ))
    return rows
