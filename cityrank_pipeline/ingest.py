"""Bring one publication file in: store it with provenance, find its edition, register it.

Used by `cityrank ingest`, by the landing-folder sensor (files an analyst drops into
CITYRANK_HOME/landing/<code>/) and by the scheduled fetcher. The file is parsed once here only
to learn which edition it is; a file no parser accepts goes straight to quarantine with the
reason and is never registered, so nothing downstream can load it. So does a publisher data
file (registry.CITY_CHECKED_PARSERS) that names a city the reviewed city list does not know.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .catalog import Catalog, normalise_name, source_for_file  # noqa: F401  (source_for_file re-exported)
from .editions import MEDIA_TYPES, parse_publication
from .harmonise import build_lookup
from .snapshots import EditionSource, Quarantine, RawStore
from .sources.base import PublicationError
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
    try:
        entry.edition_seq(label)
    except ValueError as exc:
        return refuse(str(exc))
    info = entry.editions.get(label)
    if published_on is None and info is not None and info.published_on is not None:
        published_on = info.published_on.isoformat()
    snapshot, _ = store.put(
        data, original_name=original_name, media_type=MEDIA_TYPES.get(source.format, "application/octet-stream"),
        licence_note=source.licence_note, source_url=source_url, published_on=published_on,
        etag=etag, last_modified=last_modified, fetched_at=fetched_at,
    )
    registered = store.register_edition(EditionSource(
        index_code=entry.code, edition=label, snapshot_id=snapshot.snapshot_id, parser=source.parser,
        source_kind=source.kind, parser_options=dict(source.parser_options), complete=source.complete,
    ))
    reprints = any(r.previous_rank is not None or r.previous_score is not None for r in rows)
    return IngestResult("new" if registered else "unchanged", entry.code, original_name, label, snapshot.snapshot_id,
                        reprints_previous=reprints)
