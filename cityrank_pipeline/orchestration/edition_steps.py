"""The four stages of one edition as plain functions: snapshot → parse → validate → load.

The per-edition assets (assets.py) and the main job's batch op (batch.py) both call these, so
an edition is handled the same way whichever ran it. Each stage returns its value and the
metadata Dagster records with it; validation also returns its check outcomes. A stage that
refuses the edition (an unparseable file, a failed suite, figures the warehouse rejects)
quarantines the file and raises `dg.Failure`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg
import pandas as pd
import psycopg

from ..catalog import Catalog, describe_verification
from ..editions import (EditionFailed, compare_with_previous_edition, edition_fingerprint, parse_edition,
                        quarantine_edition, validate_edition, validate_index_editions)
from ..loading import edition_meta, load_edition
from ..methodology import methodology_changes
from ..notify import notify_new_edition, release_label
from ..snapshots import EditionSource, Snapshot
from .metadata import table_metadata
from .resources import CityrankResource

SUITE_CHECK = "expectation_suite"
PREVIOUS_CHECK = "matches_previous_edition"
SOURCES_CHECK = "sources_agree"
METHODOLOGY_CHECK = "methodology_unchanged"


@dataclass(frozen=True)
class EditionRows:
    """What flows between the stages: the rows plus the exact source they came from."""

    source: EditionSource
    snapshot: Snapshot
    frame: pd.DataFrame
    # Every file the rows were assembled from (assembly.Contribution), best first.
    contributions: tuple = ()


@dataclass(frozen=True)
class CheckOutcome:
    """One check of the validated stage, before it becomes an AssetCheckResult or -Evaluation."""

    name: str
    passed: bool
    severity: dg.AssetCheckSeverity
    description: str
    metadata: dict


@dataclass
class Validation:
    rows: EditionRows
    passed: bool  # the blocking suite check
    summary: str
    metadata: dict  # the validated asset's own output metadata
    checks: list[CheckOutcome] = field(default_factory=list)


def _failure_table(report) -> str:
    lines = ["| expectation | why | rows | examples |", "|---|---|---|---|"]
    for f in report.failures:
        examples = "<br>".join(e.replace("|", "\\|") for e in f.examples)
        lines.append(f"| {f.expectation} | {f.why} | {f.unexpected_count} | {examples} |")
    return "\n".join(lines)


def _sources_table(contributions) -> str:
    lines = ["| precedence | file | kind | role | facts used | overridden | disagreements |", "|---|---|---|---|---|---|---|"]
    for c in contributions:
        lines.append(f"| {c.precedence} | {c.snapshot.original_name} (`{c.snapshot.snapshot_id[:12]}`) | {c.kind} | "
                     f"{c.role} | {c.facts_used} | {c.facts_overridden} | {len(c.disagreements)} |")
    return "\n".join(lines)


def focus_metadata(headline) -> dict:
    """The focus city's result as numbers Dagster plots across the index's editions (partitions).

    Left out when undisclosed rather than sent as 0 or NaN, which would plot as a result.
    """
    if headline is None:
        return {}
    out: dict = {"focus_city": headline.city, "edition": headline.edition}
    if headline.rank is not None:
        out["focus_rank"] = int(headline.rank)
    if headline.score is not None:
        out["focus_score"] = float(headline.score)
    if headline.city_count is not None:
        out["focus_rank_of"] = int(headline.city_count)
    return out


def snapshot_step(cityrank: CityrankResource, code: str, label: str) -> tuple[EditionSource, dict]:
    """The raw publication of one edition, its bytes verified against their address."""
    store = cityrank.store()
    source = store.edition_source(code, label)
    if source is None:
        raise dg.Failure(f"{code} edition {label!r} has no registered publication in the raw store")
    snapshot = store.get(source.snapshot_id)
    store.read_bytes(source.snapshot_id)  # verifies the bytes still match their address
    return source, {
        "snapshot_id": snapshot.snapshot_id, "original_name": snapshot.original_name,
        "source_url": dg.MetadataValue.url(snapshot.source_url) if snapshot.source_url else "",
        "bytes": snapshot.bytes, "fetched_at": snapshot.fetched_at, "parser": source.parser,
        "source_kind": source.source_kind,
    }


def parse_step(cityrank: CityrankResource, code: str, source: EditionSource) -> tuple[EditionRows, dict]:
    """Every city's figures as printed, names harmonised; an unreadable file is quarantined."""
    store = cityrank.store()
    catalog = cityrank.catalog()
    try:
        assembled = parse_edition(catalog, store, source)
    except EditionFailed as exc:
        where = quarantine_edition(cityrank.quarantine(), store, source, str(exc))
        raise dg.Failure(description=str(exc), metadata={"quarantined_to": str(where) if where else ""}) from exc
    frame, report = assembled.frame, assembled.harmonise
    metadata = {
        "sources": dg.MetadataValue.md(_sources_table(assembled.contributions)),
        "rows": len(frame), "cities": int(frame["city"].nunique()),
        "measures": ", ".join(sorted(frame["measure"].unique())),
        "unmapped_city_names": ", ".join(report.unmapped) or "none",
        "unused_index_aliases": ", ".join(report.unused_index_aliases) or "none",
        "parser_real_documents": describe_verification(catalog[code].parser_coverage().get(source.parser, []),
                                                        source.parser),
        "preview": dg.MetadataValue.md(frame.head(10)[["edition", "city", "measure", "score", "rank"]].to_markdown(index=False)),
    }
    return EditionRows(source, assembled.snapshot, frame, assembled.contributions), metadata


def suite_reports(cityrank: CityrankResource, editions: list[EditionRows]) -> list:
    """The suite's report on each of several editions of one index, from one suite run when all
    pass (validation.validate_editions): what the main job gives `validate_step`."""
    return validate_index_editions(cityrank.catalog(), cityrank.settings().expectations_dir,
                                   [(rows.source, rows.frame) for rows in editions])


def validate_step(cityrank: CityrankResource, code: str, label: str, rows: EditionRows, log,
                  report=None) -> Validation:
    """The index's suite (blocking: a failure quarantines the file) and the three warnings.

    `report` is the suite's verdict when the caller already has it (`suite_reports`)."""
    settings = cityrank.settings()
    catalog = cityrank.catalog()
    # Checks are partitioned like the asset (Dagster records each result against the edition);
    # the edition is also named in the result, so it reads the same in logs and alerts.
    checked = f"{release_label(code, label)}"
    if report is None:
        report = validate_edition(catalog, settings.expectations_dir, rows.source, rows.frame)
    # The file first: an analyst acts on a file, not on an edition label.
    summary = f"{rows.snapshot.original_name}: {report.summary()}"
    suite = {"edition": label, "suite": report.suite, "expectations": report.evaluated, "failed": len(report.failures),
             "summary": summary}
    if not report.success:
        where = quarantine_edition(cityrank.quarantine(), cityrank.store(), rows.source, summary)
        suite["failures"] = dg.MetadataValue.md(_failure_table(report))
        suite["quarantined_to"] = str(where) if where else ""
        log.error(summary)
    result = Validation(rows, report.success, summary, {"rows": len(rows.frame), "passed": report.success})
    result.checks.append(CheckOutcome(SUITE_CHECK, report.success, dg.AssetCheckSeverity.ERROR, checked, suite))
    with cityrank.connect() as conn:
        compared, mismatches = compare_with_previous_edition(conn, catalog[code], rows.source.edition, rows.frame)
        previous_label, changes = methodology_changes(conn, catalog[code], rows.source.edition, rows.frame)
    result.checks.append(CheckOutcome(PREVIOUS_CHECK, not mismatches, dg.AssetCheckSeverity.WARN, checked, {
        "edition": label, "compared": compared, "mismatches": len(mismatches),
        "details": "; ".join(mismatches[:20]) or "none"}))
    disagreements = [d for c in rows.contributions for d in c.disagreements]
    result.checks.append(CheckOutcome(SOURCES_CHECK, not disagreements, dg.AssetCheckSeverity.WARN, checked, {
        "edition": label, "sources": len(rows.contributions),
        "overlapping_figures": sum(c.facts_overridden for c in rows.contributions),
        "disagreements": len(disagreements), "details": "; ".join(disagreements[:20]) or "none"}))
    result.checks.append(CheckOutcome(METHODOLOGY_CHECK, not changes, dg.AssetCheckSeverity.WARN, checked, {
        "edition": label, "compared_with": previous_label or "no earlier edition with indicators",
        "changes": len(changes), "details": "; ".join(c.describe() for c in changes[:40]) or "none"}))
    return result


def load_step(cityrank: CityrankResource, code: str, rows: EditionRows, log) -> dict:
    """The edition's rows into the warehouse (replace-if-changed); returns the load's metadata,
    including `input_fingerprint`, which the main job compares to skip an unchanged edition."""
    from ..brief import release_markdown  # charts and fonts: imported only when an edition loads

    catalog: Catalog = cityrank.catalog()
    meta = edition_meta(catalog[code], rows.source.edition, rows.frame, rows.snapshot, complete=rows.source.complete)
    with cityrank.connect() as conn:
        try:
            result = load_edition(conn, catalog, catalog[code], rows.frame, rows.snapshot, meta, rows.contributions)
        except (psycopg.DataError, psycopg.IntegrityError) as exc:
            # The file's figures, not the database, are at fault (the load rolled back):
            # withdraw it like a file the suite refuses, so the next run does not meet it again.
            reason = f"{rows.snapshot.original_name}: the warehouse refused {code} {meta.edition}: " \
                     f"{str(exc).strip().splitlines()[0]}"
            where = quarantine_edition(cityrank.quarantine(), cityrank.store(), rows.source, reason)
            raise dg.Failure(description=reason, metadata={"quarantined_to": str(where) if where else ""}) from exc
        # Chart + scorecard for the UI and the headline; never fails the load (warns instead).
        pictures, headline = release_markdown(conn, cityrank.settings(), catalog, code, meta.edition, log)
        standard = table_metadata(conn, "warehouse", "fact_city_score", result.rows)
    notified = notify_new_edition(headline, logger=log) if result.changed and headline else {}
    return {
        **standard,
        **focus_metadata(headline),
        **{name: dg.MetadataValue.md(text) for name, text in pictures.items()},
        "notifications": "; ".join(f"{k}: {v}" for k, v in notified.items()) or "none",
        "rows": result.rows, "changed": result.changed, "deleted": result.deleted,
        "snapshot_id": rows.snapshot.snapshot_id, "published_on": str(meta.published_on or ""),
        "city_count": meta.city_count or 0,
        "sources": ", ".join(f"{c.snapshot.original_name} ({c.role})" for c in rows.contributions) or "",
        "input_fingerprint": edition_fingerprint(cityrank.settings(), catalog, cityrank.store(), rows.source),
    }
