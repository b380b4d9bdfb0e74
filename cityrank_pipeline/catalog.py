"""The declarative catalog: one YAML file per index in `assets/`, plus the city alias file.

Everything cityrank knows about an index — publisher, names, owner department, scale,
calendar, measures, where its publications live and which parser reads them — is data in
`assets/<code>.yaml`. It is validated when loaded, so a typo fails with the file and the
field named instead of surfacing later as a wrong number in a view.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .sources.base import PublicationError

DEPARTMENTS_FILE = "departments.yaml"

INDEX_CODES = ("GCI", "GCO", "GPCI", "QOL", "EIU", "GSER", "GFCI", "CIMI", "GDCI")


class CatalogError(ValueError):
    """A catalog file is malformed. The message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scale(_Strict):
    min: float | None = None
    max: float | None = None
    unit: str = "points"
    higher_is_better: bool = True

    @model_validator(mode="after")
    def _ordered(self) -> "Scale":
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError("scale.min must be below scale.max")
        return self


MEASURE_LEVELS = ("overall", "sub_index", "indicator_group", "indicator")


class Measure(_Strict):
    code: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    # The name in Korean, for the Korean brief (falls back to `name` where missing).
    name_ko: str | None = None
    level: Literal["overall", "sub_index", "indicator_group", "indicator"]
    parent: str | None = None
    # The publisher's own code for an indicator group ("Ec1") and its number for an indicator
    # (1..70 in GPCI 2023). Parsers match printed keys against these, never guess.
    publisher_code: str | None = None
    number: int | None = Field(default=None, ge=1)
    # Other wordings the publisher printed for the *same* indicator in other editions. An
    # indicator replaced by a different one is a new measure, not an alias.
    aliases: list[str] = Field(default_factory=list)
    # First and last edition (labels) that report the measure, where it is not every edition:
    # an indicator Mori added or retired. Parsers and the suite expect it only in between.
    since: str | None = None
    until: str | None = None
    # Department that owns the measure when it is not the index's owner department.
    department: str | None = None
    # Whether city policy can move this measure (drives the weak-indicator action list).
    influence: bool = True
    scale: Scale | None = None
    definition: str | None = None
    # Which cities the publisher ranks on this measure: every city of the edition ("all"),
    # only the leaders ("top": GFCI's top 15 by area and by sector), or a list of its own
    # ("own": GFCI's FinTech index rates fewer centres than the main index). Only "all"
    # measures are held to the edition's city count.
    coverage: Literal["all", "top", "own"] = "all"


class VerifiedFile(_Strict):
    """A real publication a source's parser was run against and read correctly, in tests."""

    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    edition: str


class EditionInfo(_Strict):
    published_on: dt.date | None = None
    published_precision: Literal["day", "month", "year", "unknown"] = "day"
    city_count: int | None = Field(default=None, gt=0)
    note: str | None = None


class Source(_Strict):
    """One way a publication reaches us."""

    kind: Literal["curated", "web", "drop_in"]
    access: Literal["public", "form_gated", "paid"] = "public"
    format: Literal["pdf", "html", "csv", "json"]
    parser: str
    parser_options: dict = Field(default_factory=dict)
    landing_pages: list[str] = Field(default_factory=list)
    href_pattern: str | None = None
    text_pattern: str | None = None
    edition_pattern: str | None = None
    document_url: str | None = None
    licence_note: str = "Publisher's terms apply; figures cited with their source."
    # True when the document lists every city the edition ranks (full tables), which turns on
    # the completeness expectations (ranks 1..N without gaps, city count).
    complete: bool = False
    # The real files this source's parser has been checked against (tests compare its output
    # with an independently read copy). Empty: the parser has met no real document yet, only
    # fixtures built from a description of the layout.
    verified_against: list[VerifiedFile] = Field(default_factory=list)
    note: str | None = None

    @field_validator("href_pattern", "text_pattern", "edition_pattern")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value

    @field_validator("document_url")
    @classmethod
    def _known_placeholders(cls, value: str | None) -> str | None:
        if value is not None and "{" in value.replace("{YYYY}", ""):
            raise ValueError("the only placeholder document_url knows is {YYYY} (the edition year)")
        return value

    @model_validator(mode="after")
    def _web_needs_location(self) -> "Source":
        if self.kind == "web" and not (self.landing_pages or self.document_url):
            raise ValueError("a web source needs landing_pages or document_url")
        if self.landing_pages and not self.href_pattern and not self.document_url:
            raise ValueError("landing_pages need an href_pattern to find the document link")
        return self


class Calendar(_Strict):
    release_months: list[int] = Field(min_length=0)
    # How often to poll inside and outside the release window (cron expressions, UTC).
    poll_in_window: str | None = None
    poll_off_window: str | None = None
    # Months after the window's last month before a missing edition counts as overdue.
    grace_months: int = Field(default=1, ge=0, le=12)
    every_n_years: int = Field(default=1, ge=1)

    @field_validator("release_months")
    @classmethod
    def _months(cls, months: list[int]) -> list[int]:
        if any(m < 1 or m > 12 for m in months):
            raise ValueError("release months are 1..12")
        return sorted(set(months))


class IndexEntry(_Strict):
    code: str
    name: str
    name_ko: str
    publisher: str
    owner_department: str
    status: Literal["active", "irregular", "discontinued"]
    cadence: str
    calendar: Calendar
    scale: Scale
    # True when the publisher prints no overall score, only ranks (GSER).
    rank_only: bool = False
    # True when the overall score is the sum of the sub-index scores (GPCI); validated.
    sub_indices_sum_to_total: bool = False
    # True when each sub-index score is the sum, over its indicator groups, of the mean of the
    # group's indicator scores (GPCI). Makes an exact what-if (mart.path_to_top5) possible.
    additive_indicators: bool = False
    measures: list[Measure]
    editions: dict[str, EditionInfo] = Field(default_factory=dict)
    sources: list[Source] = Field(default_factory=list)
    city_aliases: dict[str, str] = Field(default_factory=dict)
    edition_label_pattern: str = r"^\d{4}$"
    description: str | None = None

    @field_validator("code")
    @classmethod
    def _known_code(cls, code: str) -> str:
        if code not in INDEX_CODES:
            raise ValueError(f"unknown index code {code!r}; expected one of {', '.join(INDEX_CODES)}")
        return code

    @model_validator(mode="after")
    def _measure_tree(self) -> "IndexEntry":
        codes = [m.code for m in self.measures]
        if len(set(codes)) != len(codes):
            raise ValueError("measures: duplicate measure code")
        overall = [m for m in self.measures if m.level == "overall"]
        if len(overall) != 1 or overall[0].code != "total":
            raise ValueError("measures: exactly one overall measure, coded 'total'")
        level_of = {m.code: m.level for m in self.measures}
        allowed_parent = {"sub_index": {"overall"}, "indicator_group": {"sub_index"},
                          "indicator": {"indicator_group", "sub_index", "overall"}}
        for m in self.measures:
            if m.level != "overall" and m.parent not in codes:
                raise ValueError(f"measures: {m.code}.parent {m.parent!r} is not a measure of this index")
            if m.level != "overall" and level_of[m.parent] not in allowed_parent[m.level]:
                raise ValueError(f"measures: {m.code} ({m.level}) cannot sit under {m.parent} ({level_of[m.parent]})")
        numbers = [m.number for m in self.measures if m.number is not None]
        if len(set(numbers)) != len(numbers):
            raise ValueError("measures: duplicate indicator number")
        seen: dict[str, str] = {}
        for m in self.measures:
            if m.level != "indicator":
                continue
            for label in (m.name, *m.aliases):
                norm = normalise_name(label)
                if seen.setdefault(norm, m.code) != m.code:
                    raise ValueError(f"measures: indicator name {label!r} is used by both {seen[norm]} and {m.code}")
        if self.additive_indicators:
            groups = {m.code for m in self.measures if m.level == "indicator_group"}
            for m in self.measures:
                if m.level == "indicator" and m.parent not in groups:
                    raise ValueError(f"measures: additive_indicators needs {m.code} under an indicator group")
        for label in self.editions:
            if not re.fullmatch(self.edition_label_pattern, label):
                raise ValueError(f"editions: label {label!r} does not match edition_label_pattern")
        for m in self.measures:
            for bound in (m.since, m.until):
                if bound is not None and not re.fullmatch(self.edition_label_pattern, bound):
                    raise ValueError(f"measures: {m.code} edition {bound!r} does not match edition_label_pattern")
            if m.since and m.until and self.edition_seq(m.since) > self.edition_seq(m.until):
                raise ValueError(f"measures: {m.code} since {m.since!r} is after until {m.until!r}")
        return self

    def measure(self, code: str) -> Measure:
        for m in self.measures:
            if m.code == code:
                return m
        raise KeyError(f"{self.code} has no measure {code!r}")

    def measures_at(self, level: str) -> list[Measure]:
        return [m for m in self.measures if m.level == level]

    def indicator_by_name(self, printed: str) -> Measure | None:
        """The indicator whose name or alias reads as `printed` (case, spacing and punctuation folded)."""
        norm = normalise_name(printed)
        for m in self.measures:
            if m.level == "indicator" and norm in {normalise_name(n) for n in (m.name, *m.aliases)}:
                return m
        return None

    def indicators_in(self, edition: str) -> list[Measure]:
        """The indicators an edition reports: all of them but those added later or retired earlier."""
        seq = self.edition_seq(edition)
        return [m for m in self.measures_at("indicator")
                if (m.since is None or self.edition_seq(m.since) <= seq)
                and (m.until is None or seq <= self.edition_seq(m.until))]

    def measure_scale(self, code: str) -> Scale:
        return self.scale_of(self.measure(code))

    def measure_department(self, code: str) -> str:
        return self.department_of(self.measure(code))

    def scale_of(self, m: Measure) -> Scale:
        """The measure's own scale, else the index's (for a caller that holds the measure: no search by code)."""
        return m.scale or self.scale

    def department_of(self, m: Measure) -> str:
        """The measure's own department, else the index's owner."""
        return m.department or self.owner_department

    def source(self, kind: str) -> Source | None:
        return next((s for s in self.sources if s.kind == kind), None)

    def parser_coverage(self) -> dict[str, list[VerifiedFile]]:
        """Each parser the index's sources name → the real files it was verified against
        (empty: fixture-only so far), in source order, each file once."""
        coverage: dict[str, list[VerifiedFile]] = {}
        for source in self.sources:
            files = coverage.setdefault(source.parser, [])
            files += [f for f in source.verified_against if f.sha256 not in {g.sha256 for g in files}]
        return coverage

    def edition_seq(self, label: str) -> int:
        """Order editions by the number in their label: '2025' -> 2025, 'GFCI 38' -> 38."""
        numbers = re.findall(r"\d+", label)
        if not numbers:
            raise CatalogError(f"{self.code}: edition label {label!r} has no number to order it by")
        return int(numbers[-1])


class City(_Strict):
    key: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    name_ko: str | None = None
    country: str
    aliases: list[str] = Field(default_factory=list)


class DepartmentFile(_Strict):
    """assets/departments.yaml: each department's English name (as the catalog writes it) → Korean name."""

    departments: dict[str, str]


class CityFile(_Strict):
    cities: list[City]

    @model_validator(mode="after")
    def _unique(self) -> "CityFile":
        seen: dict[str, str] = {}
        for city in self.cities:
            for label in [city.name, *city.aliases]:
                norm = normalise_name(label)
                if norm in seen and seen[norm] != city.key:
                    raise ValueError(f"name {label!r} maps to both {seen[norm]} and {city.key}")
                seen[norm] = city.key
        keys = [c.key for c in self.cities]
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate city key")
        return self


CURATED_PARSER = "curated_figures"


def describe_verification(files: list[VerifiedFile], parser: str | None = None) -> str:
    """'verified against: <file> (<edition>, sha256 <first 12>), …', or 'none yet: fixture-only'.

    The curated parser reads cityrank's own table of published figures, never a publisher's
    document, so "fixture-only" would misstate it; it says what it reads instead."""
    if parser == CURATED_PARSER and not files:
        return "not a publisher document: cityrank's table of published figures, each with its source URL"
    if not files:
        return "none yet: fixture-only"
    return "verified against: " + ", ".join(f"{f.file} ({f.edition}, sha256 {f.sha256[:12]})" for f in files)


def normalise_name(name: str) -> str:
    """Fold case, accents-as-printed punctuation and spacing: 'Washington, D.C.' ~ 'Washington D.C.'."""
    folded = re.sub(r"[\s.,'’\-]+", " ", name.casefold()).strip()
    return folded


def _format_validation_error(path: Path, exc: ValidationError) -> str:
    problems = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(file)"
        problems.append(f"{field}: {err['msg']}")
    return f"{path}: " + "; ".join(problems)


# libyaml's safe loader when PyYAML was built with it: the same documents, several times faster
# (the catalog is read at every command's start).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: a date such as 2025-13-25
        # One line: PyYAML's message spans several, with a snippet of the file.
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CatalogError(f"{path}: not valid YAML{where}: {problem}") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: expected a mapping at the top level")
    return data


def load_index_file(path: Path) -> IndexEntry:
    data = _read_yaml(path)
    try:
        entry = IndexEntry.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(_format_validation_error(path, exc)) from exc
    if path.stem.upper() != entry.code:
        raise CatalogError(f"{path}: code: {entry.code} does not match the file name")
    return entry


def load_city_file(path: Path) -> CityFile:
    try:
        return CityFile.model_validate(_read_yaml(path))
    except ValidationError as exc:
        raise CatalogError(_format_validation_error(path, exc)) from exc


class Catalog:
    """All index entries and the reviewed city list, loaded and cross-checked together."""

    def __init__(self, indices: dict[str, IndexEntry], cities: CityFile, directory: Path,
                 departments: DepartmentFile | None = None):
        self.indices = indices
        self.cities = cities
        self.directory = directory
        self.departments_ko = dict(departments.departments) if departments else {}
        if departments is not None:
            used = {e.owner_department for e in indices.values()} | {
                m.department for e in indices.values() for m in e.measures if m.department}
            missing = sorted(used - set(self.departments_ko))
            if missing:
                raise CatalogError(f"{directory / DEPARTMENTS_FILE}: no Korean name for department(s) "
                                   f"{', '.join(missing)} (used in the index files)")
        keys = {c.key for c in cities.cities}
        for entry in indices.values():
            for printed, key in entry.city_aliases.items():
                if key not in keys:
                    raise CatalogError(
                        f"{directory / (entry.code.lower() + '.yaml')}: city_aliases.{printed}: "
                        f"{key!r} is not a city key in cities.yaml"
                    )

    def __getitem__(self, code: str) -> IndexEntry:
        try:
            return self.indices[code.upper()]
        except KeyError:
            raise CatalogError(f"unknown index {code!r}; known: {', '.join(sorted(self.indices))}") from None

    def __iter__(self):
        return iter(self.indices[c] for c in INDEX_CODES if c in self.indices)

    @cached_property
    def city_by_key(self) -> dict[str, City]:
        return {c.key: c for c in self.cities.cities}

    def department_ko(self, department: str | None) -> str | None:
        """The department's Korean name (the English one where departments.yaml has none)."""
        return None if department is None else self.departments_ko.get(department, department)

    def city_name_ko(self, name: str) -> str:
        """A city's Korean name from its canonical English name (unchanged when unknown)."""
        wanted = normalise_name(name)
        for city in self.cities.cities:
            if normalise_name(city.name) == wanted:
                return city.name_ko or city.name
        return name


def load_catalog(directory: Path) -> Catalog:
    directory = Path(directory)
    indices: dict[str, IndexEntry] = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name in ("cities.yaml", DEPARTMENTS_FILE):
            continue
        entry = load_index_file(path)
        indices[entry.code] = entry
    missing = [c for c in INDEX_CODES if c not in indices]
    if missing:
        raise CatalogError(f"{directory}: no catalog file for {', '.join(missing)}")
    path = directory / DEPARTMENTS_FILE
    if not path.exists():
        raise CatalogError(f"{path}: missing (each department's Korean name, for the Korean brief)")
    try:
        departments = DepartmentFile.model_validate(_read_yaml(path))
    except ValidationError as exc:
        raise CatalogError(_format_validation_error(path, exc)) from exc
    return Catalog(indices, load_city_file(directory / "cities.yaml"), directory, departments)


def source_for_file(catalog: Catalog, index_code: str, original_name: str, kind: str) -> Source:
    """The catalog source whose format fits the file (by extension), preferring `kind`."""
    entry = catalog[index_code]
    fmt = Path(original_name).suffix.lstrip(".").lower()
    fmt = {"htm": "html"}.get(fmt, fmt)
    candidates = [s for s in entry.sources if s.kind != "curated"] + [s for s in entry.sources if s.kind == "curated"]
    for wanted_kind in (kind, None):
        for source in candidates:
            if (wanted_kind is None or source.kind == wanted_kind) and source.format == fmt:
                return source
    known = ", ".join(sorted({s.format for s in entry.sources})) or "none"
    raise PublicationError(original_name, f"{entry.code} has no parser for .{fmt or '?'} files (formats: {known})")
