"""The stages of one edition, free of Dagster: acquire → parse → harmonise → validate → load.

Dagster assets call these functions one stage per asset; the CLI's `extract` calls the parse
stage alone. Keeping them here means every stage can be tested without an orchestrator.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd

from .catalog import Catalog, IndexEntry
from .assembly import AssembledEdition, assemble_edition, contributing_sources
from .snapshots import EditionSource, Quarantine, RawStore, Snapshot
from .sources.base import SCORE_ROW_COLUMNS, PublicationError, ScoreRow
from .sources.curated import curated_editions
from .sources.registry import parse_publication  # noqa: F401  (re-exported: the parse stage)
from .validation import EditionToValidate, ValidationReport, validate_editions, validate_rows

CURATED_FILE = "published_figures.csv"
CURATED_LICENCE = "Facts compiled by the cityrank team from publishers and press; each row cites its source_url."
MEDIA_TYPES = {"pdf": "application/pdf", "html": "text/html", "csv": "text/csv", "json": "application/json"}


class EditionFailed(RuntimeError):
    """A stage refused an edition. The message names the file and, where known, page or row."""


def curated_bytes() -> bytes:
    return resources.files("cityrank_pipeline.data").joinpath(CURATED_FILE).read_bytes()


@lru_cache(maxsize=8)
def _curated_labels(snapshot_id: str, data: bytes, index_code: str) -> tuple[str, ...]:
    return tuple(curated_editions(data, CURATED_FILE, index_code))


def curated_snapshot(store: RawStore) -> Snapshot:
    """The packaged curated figures, stored by content (the same bytes again are a no-op)."""
    snapshot, _ = store.put(curated_bytes(), original_name=CURATED_FILE, media_type="text/csv",
                            licence_note=CURATED_LICENCE)
    return snapshot


def curated_source(store: RawStore, entry: IndexEntry, edition: str) -> EditionSource | None:
    """The curated figures as a source of one edition, or None when they hold none of it."""
    source = entry.source("curated")
    if source is None:
        return None
    snapshot = curated_snapshot(store)
    if edition not in _curated_labels(snapshot.snapshot_id, curated_bytes(), entry.code):
        return None
    return EditionSource(index_code=entry.code, edition=edition, snapshot_id=snapshot.snapshot_id,
                         parser=source.parser, source_kind="curated", parser_options=dict(source.parser_options))


def register_curated_editions(catalog: Catalog, store: RawStore) -> list[EditionSource]:
    """Snapshot the packaged curated figures and point every edition they hold at them.

    Editions already backed by a real publication (a PDF dropped in or fetched) keep it: the
    curated figures are the fallback, not an override.
    """
    data = curated_bytes()
    snapshot = curated_snapshot(store)
    registered = []
    for entry in catalog:
        source = entry.source("curated")
        if source is None:
            continue
        for label in curated_editions(data, CURATED_FILE, entry.code):
            existing = store.edition_source(entry.code, label)
            if existing is not None and existing.source_kind != "curated":
                continue
            edition_source = EditionSource(
                index_code=entry.code, edition=label, snapshot_id=snapshot.snapshot_id,
                parser=source.parser, source_kind="curated", parser_options=dict(source.parser_options),
            )
            store.register_edition(edition_source)
            registered.append(edition_source)
    return registered


def rows_to_frame(rows: list[ScoreRow]) -> pd.DataFrame:
    frame = pd.DataFrame([r.as_dict() for r in rows], columns=SCORE_ROW_COLUMNS)
    return frame.astype({"rank_tied": bool})


def parse_edition(catalog: Catalog, store: RawStore, source: EditionSource) -> AssembledEdition:
    """Parsed and harmonised rows of one edition from every file that has figures for it
    (see `assembly`): the registered file first, then reprints and curated figures."""
    try:
        return assemble_edition(catalog, store, source)
    except PublicationError as exc:
        raise EditionFailed(str(exc)) from exc


def _to_validate(entry, source: EditionSource, frame: pd.DataFrame) -> EditionToValidate:
    info = entry.editions.get(source.edition)
    return EditionToValidate(frame, complete=source.complete, city_count=info.city_count if info else None)


def validate_edition(catalog: Catalog, expectations_dir: Path, source: EditionSource, frame: pd.DataFrame) -> ValidationReport:
    entry = catalog[source.index_code]
    edition = _to_validate(entry, source, frame)
    return validate_rows(frame, entry, expectations_dir / f"{entry.code.lower()}.json",
                         complete=edition.complete, city_count=edition.city_count)


def validate_index_editions(catalog: Catalog, expectations_dir: Path,
                            editions: list[tuple[EditionSource, pd.DataFrame]]) -> list[ValidationReport]:
    """`validate_edition` for several editions of one index, in one suite run when all pass."""
    if not editions:
        return []
    entry = catalog[editions[0][0].index_code]
    if any(source.index_code != entry.code for source, _ in editions):
        raise ValueError("validate_index_editions takes editions of one index")
    return validate_editions([_to_validate(entry, source, frame) for source, frame in editions], entry,
                             expectations_dir / f"{entry.code.lower()}.json")


def quarantine_edition(quarantine: Quarantine, store: RawStore, source: EditionSource, reason: str) -> Path | None:
    """Keep the failing file with a note and withdraw it from the edition registry.

    The edition falls back to the file it had before (if any), so a bad new file never
    displaces good data; the curated CSV is quarantined too, so analysts see why.
    """
    store.withdraw_edition(source)
    snapshot = store.find(source.snapshot_id)
    if snapshot is None:
        return None
    return quarantine.put(store.read_bytes(source.snapshot_id), index_code=source.index_code,
                          original_name=snapshot.original_name, reason=reason, edition=source.edition)


def edition_fingerprint(settings, catalog: Catalog, store: RawStore, source: EditionSource) -> str:
    """What an edition's load depends on: the bytes and parser of every file that contributes
    to it (its own, a later edition that reprints it, the curated figures), its catalog entry,
    the city list and the suite.

    The main job skips an edition whose last successful load had the same fingerprint, so a
    second `cityrank run` does no work; any change to one of these inputs re-runs it.
    """
    import hashlib
    import json

    from . import __version__

    digest = hashlib.sha256()
    contributors = [[kind, s.snapshot_id, s.parser, s.parser_options, s.complete, s.edition]
                    for kind, s in contributing_sources(catalog, store, source)]
    digest.update(json.dumps([contributors, source.edition, __version__], sort_keys=True).encode())
    for path in (settings.catalog_dir / f"{source.index_code.lower()}.yaml", settings.catalog_dir / "cities.yaml",
                 settings.expectations_dir / f"{source.index_code.lower()}.json"):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def compare_with_previous_edition(conn, entry: IndexEntry, edition: str, frame: pd.DataFrame) -> tuple[int, list[str]]:
    """Cross-check the previous edition's figures a publication reprints against the warehouse.

    GPCI prints last year's rank and score beside each city. When the directly preceding
    edition is loaded, disagreements are worth a look (a restated score, a misread row) but
    are not a reason to refuse the new edition: the caller reports them as a warning.
    Returns (figures compared, mismatch descriptions).
    """
    reprinted = frame[(frame["measure"] == "total") &
                      (frame["previous_rank"].notna() | frame["previous_score"].notna())]
    if reprinted.empty:
        return 0, []
    stored = conn.execute(
        """SELECT f.city_key, f.rank, f.score, f.edition FROM warehouse.fact_city_score f
           JOIN warehouse.dim_edition e ON e.index_code = f.index_code AND e.edition = f.edition
           WHERE f.index_code = %s AND f.measure_code = 'total' AND e.edition_seq = %s""",
        (entry.code, entry.edition_seq(edition) - 1),
    ).fetchall()
    previous = {key: (rank, score, label) for key, rank, score, label in stored}
    compared, mismatches = 0, []
    for row in reprinted.itertuples():
        if row.city_key not in previous:
            continue
        rank, score, label = previous[row.city_key]
        compared += 1
        if pd.notna(row.previous_rank) and rank is not None and int(row.previous_rank) != rank:
            mismatches.append(f"{row.city}: reprinted {label} rank {int(row.previous_rank)}, warehouse has {rank}")
        if pd.notna(row.previous_score) and score is not None and abs(float(row.previous_score) - float(score)) > 0.05:
            mismatches.append(f"{row.city}: reprinted {label} score {row.previous_score}, warehouse has {score}")
    return compared, mismatches
