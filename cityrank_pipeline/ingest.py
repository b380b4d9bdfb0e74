"""Bring one publication file in: store it with provenance, find its edition, register it.

Used by `cityrank ingest`, by the landing-folder sensor (files an analyst drops into
CITYRANK_HOME/landing/<code>/) and by the scheduled fetcher. The file is parsed once here only
to learn which edition it is; a file no parser accepts goes straight to quarantine with the
reason and is never registered, so nothing downstream can load it. So does a publisher data
file (registry.CITY_CHECKED_PARSERS) that names a city the reviewed city list does not know.

Refuse before registering: everything that can be known about a file without the warehouse
is checked before a byte is stored — the parse (with `row_checks`: finite numbers in range, no
control characters, bounded sizes), the edition label (the catalog's pattern, not in the
future, not ordering like another label of the index), the release date, and the index's
suite on the edition as this file would assemble it (`ProposedStore`). A file refused at any
of these goes to quarantine with a one-line reason naming it, and the raw store, the edition
registry and the warehouse are exactly as they were: the next `cityrank run` never meets an
edition whose file cannot load.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from .catalog import Catalog, IndexEntry, normalise_name, source_for_file  # noqa: F401  (source_for_file re-exported)
from .editions import MEDIA_TYPES, parse_publication
from .harmonise import build_lookup
from .snapshots import EditionSource, Quarantine, RawStore, Snapshot, SnapshotError, sha256_of, utc_now_iso
from .sources.base import PublicationError, ScoreRow
from .sources.row_checks import published_date
from .sources.registry import CITY_CHECKED_PARSERS


@dataclass(frozen=True)
class IngestResult:
    status: str  # "new" | "unchanged" | "quarantined"
    index_code: str
    original_name: str
    edition: str | None = None
    snapshot_id: str | None = None
    reason: str | None = None
    quarantined_to: Path | None = None
    # True when the file also prints the previous edition's figures (GFCI, GPCI summaries),
    # which makes that edition worth re-assembling.
    reprints_previous: bool = False

    @property
    def run_key(self) -> str | None:
        """Deterministic Dagster run key: the same edition and bytes never run twice."""
        return f"{self.edition}:{self.snapshot_id}" if self.edition and self.snapshot_id else None


# An edition dated beyond next year cannot have been published (publishers date a report by
# the year it is released or, at most, the year after: "GPCI 2025" comes out in late 2025).
FUTURE_YEARS = 1


def edition_problem(entry: IndexEntry, store: RawStore, label: str, published_on: str | None,
                    rows: list[ScoreRow], today: dt.date | None = None) -> str | None:
    """Why `label` (with the release date given and the dates the file prints) cannot become
    an edition of `entry`, or None. Cheap checks, before any suite runs or anything is stored."""
    today = today or dt.date.today()
    if not re.fullmatch(entry.edition_label_pattern, label):  # $ alone admits a trailing newline
        return (f"edition label {label!r} is not a {entry.code} edition label (the catalog's pattern is "
                f"{entry.edition_label_pattern!r})")
    try:
        seq = entry.edition_seq(label)
    except ValueError as exc:
        return str(exc)
    if re.fullmatch(r"\d{4}", label) and seq > today.year + FUTURE_YEARS:
        return f"edition {label} lies in the future (today is {today}): refused as a future edition"
    if published_on is not None:
        try:
            published = dt.date.fromisoformat(published_on)
        except ValueError:
            return f"published_on {published_on!r} is not a date (YYYY-MM-DD)"
        if published > today:
            return f"published_on {published} is in the future (today is {today})"
    for row in rows:
        printed = published_date(row.published) if row.published else None
        if printed is not None and printed > today:
            return f"{row.city} / {row.measure}: published {row.published} is in the future (today is {today})"
    known = {s.edition for s in store.edition_sources(entry.code)} | set(entry.editions)
    clashes = sorted(other for other in known if other != label and entry.edition_seq(other) == seq)
    if clashes:
        return (f"edition label {label!r} orders as {seq}, like {entry.code} {clashes[0]!r} already known: the "
                f"warehouse orders editions by that number, so it would take {clashes[0]!r}'s place; "
                f"use --edition {clashes[0]!r} if it is that edition")
    return None


class ProposedStore(RawStore):
    """The raw store as it would be with one more file stored and registered, held in memory.

    `ingest_publication` assembles and validates the edition through this view, so a file the
    suite refuses has touched neither the raw store nor the edition registry (nor, through the
    curated snapshot the assembly asks for, anything else)."""

    def __init__(self, store: RawStore, data: bytes, provenance: dict):
        super().__init__(store.root)
        self._base = store
        self._pending: dict[str, tuple[Snapshot, bytes]] = {}
        self._registered: EditionSource | None = None
        self.snapshot_id = self.put(data, **provenance)[0].snapshot_id

    def register(self, source: EditionSource) -> None:
        self._registered = source

    def put(self, data: bytes, **provenance) -> tuple[Snapshot, bool]:
        snapshot_id = sha256_of(data)
        existing = self.find(snapshot_id)
        if existing is not None:
            return existing, False
        snapshot = Snapshot(snapshot_id=snapshot_id, bytes=len(data),
                            fetched_at=provenance.pop("fetched_at", None) or utc_now_iso(), **provenance)
        self._pending[snapshot_id] = (snapshot, data)
        return snapshot, True

    def find(self, snapshot_id: str) -> Snapshot | None:
        return self._pending[snapshot_id][0] if snapshot_id in self._pending else self._base.find(snapshot_id)

    def read_bytes(self, snapshot_id: str) -> bytes:
        return self._pending[snapshot_id][1] if snapshot_id in self._pending else self._base.read_bytes(snapshot_id)

    def _is_proposed(self, index_code: str, edition: str | None = None) -> bool:
        new = self._registered
        return new is not None and new.index_code == index_code and edition in (None, new.edition)

    def edition_source(self, index_code: str, edition: str) -> EditionSource | None:
        return self._registered if self._is_proposed(index_code, edition) else self._base.edition_source(index_code, edition)

    def edition_sources(self, index_code: str) -> list[EditionSource]:
        found = self._base.edition_sources(index_code)
        if not self._is_proposed(index_code):
            return found
        return [s for s in found if s.edition != self._registered.edition] + [self._registered]

    def edition_history(self, index_code: str, edition: str) -> list[EditionSource]:
        found = self._base.edition_history(index_code, edition)
        if not self._is_proposed(index_code, edition):
            return found
        return [self._registered, *(s for s in found if s != self._registered)]

    def register_edition(self, source: EditionSource) -> bool:
        raise SnapshotError("a proposed store registers nothing")

    def withdraw_edition(self, source: EditionSource) -> EditionSource | None:
        raise SnapshotError("a proposed store withdraws nothing")


def validation_problem(catalog: Catalog, proposed: ProposedStore, candidate: EditionSource) -> str | None:
    """Assemble the edition as it would be with the file registered, harmonise it and run the
    index's suite on it; the reason it fails, or None.

    Imported here, not at the top: pandas and Great Expectations cost seconds to import, and
    a file that did not parse never gets this far.
    """
    from .editions import EditionFailed, parse_edition, validate_edition

    proposed.register(candidate)
    try:
        assembled = parse_edition(catalog, proposed, candidate)
    except EditionFailed as exc:
        return str(exc)
    report = validate_edition(catalog, catalog.directory.parent / "expectations", candidate, assembled.frame)
    if report.success:
        return None
    return f"{candidate.index_code} {candidate.edition} as this file would make it fails {report.summary()}"


def ingest_publication(
    catalog: Catalog,
    store: RawStore,
    quarantine: Quarantine,
    index_code: str,
    data: bytes,
    *,
    original_name: str,
    kind: str = "drop_in",
    source_url: str | None = None,
    published_on: str | None = None,
    edition: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    fetched_at: str | None = None,
) -> IngestResult:
    entry = catalog[index_code]

    def refuse(reason: str) -> IngestResult:
        where = quarantine.put(data, index_code=entry.code, original_name=original_name, reason=reason, edition=edition)
        return IngestResult("quarantined", entry.code, original_name, edition, None, reason, where)

    try:
        source = source_for_file(catalog, entry.code, original_name, kind)
        rows = parse_publication(entry, source.parser, data, original_name, edition=edition,
                                 options=source.parser_options)
    except PublicationError as exc:
        return refuse(str(exc))
    editions = sorted({r.edition for r in rows})
    if len(editions) != 1:
        return refuse(f"{original_name}: expected one edition per file, found {', '.join(editions) or 'none'}")
    label = editions[0]
    if source.parser in CITY_CHECKED_PARSERS:
        lookup = build_lookup(catalog, entry)
        unknown = sorted({r.city for r in rows if normalise_name(r.city) not in lookup})
        if unknown:
            return refuse(f"{original_name}: city name(s) not in assets/cities.yaml (nor {entry.code}'s city_aliases): "
                          f"{', '.join(repr(c) for c in unknown)}; add each after checking it is a real city")
    problem = edition_problem(entry, store, label, published_on, rows)
    if problem is not None:
        return refuse(f"{original_name}: {problem}")
    info = entry.editions.get(label)
    if published_on is None and info is not None and info.published_on is not None:
        published_on = info.published_on.isoformat()
    provenance = dict(original_name=original_name, media_type=MEDIA_TYPES.get(source.format, "application/octet-stream"),
                      licence_note=source.licence_note, source_url=source_url, published_on=published_on,
                      etag=etag, last_modified=last_modified, fetched_at=fetched_at)
    proposed = ProposedStore(store, data, provenance)
    candidate = EditionSource(
        index_code=entry.code, edition=label, snapshot_id=proposed.snapshot_id, parser=source.parser,
        source_kind=source.kind, parser_options=dict(source.parser_options), complete=source.complete,
    )
    if store.edition_source(entry.code, label) != candidate:
        problem = validation_problem(catalog, proposed, candidate)
        if problem is not None:
            return refuse(f"{original_name}: {problem}")
    snapshot, _ = store.put(data, **provenance)
    registered = store.register_edition(candidate)
    reprints = any(r.previous_rank is not None or r.previous_score is not None for r in rows)
    return IngestResult("new" if registered else "unchanged", entry.code, original_name, label, snapshot.snapshot_id,
                        reprints_previous=reprints)
