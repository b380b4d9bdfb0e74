"""One edition assembled from every file that has figures for it, by a fixed precedence.

An edition is often printed in more than one place. GPCI 2023 is in the curated figures
(Seoul's rank, from Mori and the press) and in Mori's own data file (every city, every
indicator); GFCI 31 was known from the press until the GFCI 32 report reprinted every centre's
GFCI 31 rank and rating beside its own. The warehouse keeps one figure per (city, measure)
cell, chosen by a rule that does not depend on the figures:

1. ``own`` — the edition's own publisher files (fetched or dropped in): the one registered
   last first; an earlier one only for measures no later one reports (Mori's functions-only
   file after its full data file keeps the indicators);
2. ``reprint`` — the next edition's publisher file, where it prints this edition's figures
   beside its own (GFCI and GPCI do);
3. ``curated`` — the figures compiled by hand from publishers and press.

A higher source takes the whole cell (score and rank together, so one row never mixes two
files); a lower one only fills the cells the higher ones lack. Where two sources give the same
cell and disagree (another rank, or a score beyond rounding), the disagreement is listed for a
WARN check, not refused: the rule already says which figure to trust, and the person reading
the check decides whether the publisher restated. Every row keeps the snapshot of its file, so
provenance stays per fact.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

import pandas as pd

from .catalog import Catalog, IndexEntry
from .harmonise import HarmoniseReport, harmonise_cities
from .snapshots import EditionSource, RawStore, Snapshot
from .sources.base import PublicationError, ScoreRow

PRECEDENCE = {"own": 1, "reprint": 2, "curated": 3}
KIND_LABEL = {"own": "publisher file", "reprint": "reprinted by the next edition", "curated": "curated figures"}
# Two printings of one score that differ by less than this are the same figure rounded.
SCORE_TOLERANCE = 0.05


class AssemblyError(RuntimeError):
    """The edition's own file could not be read; the message names the file."""


@dataclass(frozen=True)
class Contribution:
    """One file's part in an edition: what it gave, what it lost to a better file."""

    kind: str  # own | reprint | curated
    source: EditionSource  # for a reprint: the registration of the edition that reprints
    snapshot: Snapshot
    facts_used: int = 0
    facts_overridden: int = 0
    disagreements: tuple[str, ...] = ()
    # True for the best-ranked file that gave any figure: the edition's primary source.
    is_first_used: bool = False

    @property
    def precedence(self) -> int:
        return PRECEDENCE[self.kind]

    @property
    def role(self) -> str:
        if self.facts_used == 0:
            return "superseded"
        return "primary" if self.is_first_used else "fills_in"

    def describe(self) -> str:
        return f"{self.snapshot.original_name} ({KIND_LABEL[self.kind]}, sha256 {self.snapshot.snapshot_id[:12]})"


@dataclass(frozen=True)
class AssembledEdition:
    frame: pd.DataFrame
    snapshot: Snapshot  # the registered (primary) file's snapshot
    harmonise: HarmoniseReport
    contributions: tuple[Contribution, ...] = field(default_factory=tuple)

    @property
    def disagreements(self) -> list[str]:
        return [d for c in self.contributions for d in c.disagreements]


def next_edition_source(entry: IndexEntry, store: RawStore, edition: str) -> EditionSource | None:
    """The registered publisher file of the edition right after `edition`, if any (curated
    figures reprint nothing, so they are never a reprint source)."""
    wanted = entry.edition_seq(edition) + 1
    for candidate in store.edition_sources(entry.code):
        if candidate.source_kind != "curated" and entry.edition_seq(candidate.edition) == wanted:
            return candidate
    return None


def contributing_sources(catalog: Catalog, store: RawStore, source: EditionSource) -> list[tuple[str, EditionSource]]:
    """(kind, registration) of every file that may hold figures of `source`'s edition, best first.

    Cheap (no parsing), so the main job can fingerprint an edition by all of its inputs.
    """
    entry = catalog[source.index_code]
    found = [("curated" if source.source_kind == "curated" else "own", source)]
    # Earlier publisher files of the same edition, newest first (they fill measures only).
    found += [("own", s) for s in store.edition_history(source.index_code, source.edition)
              if s.source_kind != "curated" and s.snapshot_id != source.snapshot_id]
    later = next_edition_source(entry, store, source.edition)
    if later is not None:
        found.append(("reprint", later))
    if source.source_kind != "curated":
        from .editions import curated_source

        curated = curated_source(store, entry, source.edition)
        if curated is not None:
            found.append(("curated", curated))
    return sorted(found, key=lambda item: PRECEDENCE[item[0]])  # stable: the registered file first


def reprinted_rows(rows: list[ScoreRow], edition: str, reprinted_in: str, source_name: str) -> list[ScoreRow]:
    """The previous edition's overall figures a publication prints beside its own."""
    out = []
    for r in rows:
        if r.measure != "total" or (r.previous_rank is None and r.previous_score is None):
            continue
        out.append(ScoreRow(
            edition=edition, city=r.city, measure="total", score=r.previous_score, rank=r.previous_rank,
            page=r.page, country=r.country, confidence="reported",
            note=f"printed in the {reprinted_in} report ({source_name}) as the previous edition's figure",
        ))
    ranks = Counter(r.rank for r in out if r.rank is not None)
    return [replace(r, rank_tied=True) if r.rank is not None and ranks[r.rank] > 1 else r for r in out]


def _rows_of(catalog: Catalog, store: RawStore, kind: str, registration: EditionSource, edition: str) -> list[ScoreRow]:
    from .editions import parse_publication

    entry = catalog[registration.index_code]
    snapshot = store.get(registration.snapshot_id)
    rows = parse_publication(entry, registration.parser, store.read_bytes(registration.snapshot_id),
                             snapshot.original_name, edition=registration.edition,
                             options=registration.parser_options)
    if kind == "reprint":
        return reprinted_rows([r for r in rows if r.edition == registration.edition], edition,
                              registration.edition, snapshot.original_name)
    return [r for r in rows if r.edition == edition]


def _same_figure(a: pd.Series, b: pd.Series) -> bool:
    if pd.notna(a["rank"]) and pd.notna(b["rank"]) and int(a["rank"]) != int(b["rank"]):
        return False
    if pd.notna(a["score"]) and pd.notna(b["score"]) and abs(float(a["score"]) - float(b["score"])) > SCORE_TOLERANCE:
        return False
    return True


def _figure(row: pd.Series) -> str:
    parts = []
    if pd.notna(row["rank"]):
        parts.append(f"rank {int(row['rank'])}")
    if pd.notna(row["score"]):
        parts.append(f"score {float(row['score']):g}")
    return " ".join(parts) or "no figure"


def assemble_edition(catalog: Catalog, store: RawStore, source: EditionSource) -> AssembledEdition:
    """Parse every contributing file, harmonise, and keep the best figure of each cell.

    The edition's own file must read (its failure raises PublicationError for the caller to
    quarantine); a reprint or curated file that fails to read is left out here — its own
    edition's run reports it.
    """
    from .editions import rows_to_frame

    entry = catalog[source.index_code]
    taken: dict[tuple, pd.Series] = {}
    winner_of: dict[tuple, str] = {}
    parts: list[pd.DataFrame] = []
    contributions: list[Contribution] = []
    unmapped: set[str] = set()
    own_measures: set[str] = set()
    unused_aliases: list[str] | None = None
    for kind, registration in contributing_sources(catalog, store, source):
        try:
            rows = _rows_of(catalog, store, kind, registration, source.edition)
        except PublicationError:
            if registration == source:
                raise
            continue
        snapshot = store.get(registration.snapshot_id)
        if not rows:
            if registration == source:
                raise PublicationError(snapshot.original_name,
                                       f"no figures for {entry.code} edition {source.edition!r}")
            continue
        frame, report = harmonise_cities(rows_to_frame(rows), catalog, entry)
        unmapped |= set(report.unmapped)
        if registration == source:
            unused_aliases = report.unused_index_aliases
        frame = frame.assign(snapshot_id=snapshot.snapshot_id)
        if kind == "own" and registration != source:
            # An earlier file of the edition gives only measures no newer file reports at all:
            # a corrected file that drops a city must not have it filled back from the old one.
            frame = frame[~frame["measure"].isin(own_measures)]
        if kind == "own":
            own_measures |= set(frame["measure"])
        keep, overridden, disagreements = [], 0, []
        cells_here: set[tuple] = set()
        for idx, row in frame.iterrows():
            cell = (row["city_key"] or f"?{row['city']}", row["measure"])
            if cell in taken and cell not in cells_here:
                overridden += 1
                if not _same_figure(taken[cell], row):
                    disagreements.append(
                        f"{row['city']} {row['measure']}: {winner_of[cell]} gives {_figure(taken[cell])}, "
                        f"{snapshot.original_name} ({KIND_LABEL[kind]}) gives {_figure(row)}")
                continue
            cells_here.add(cell)
            keep.append(idx)
        for idx in keep:
            row = frame.loc[idx]
            cell = (row["city_key"] or f"?{row['city']}", row["measure"])
            taken.setdefault(cell, row)
            winner_of.setdefault(cell, f"{snapshot.original_name} ({KIND_LABEL[kind]})")
        parts.append(frame.loc[keep])
        contributions.append(Contribution(kind, registration, snapshot, facts_used=len(keep),
                                          facts_overridden=overridden, disagreements=tuple(disagreements)))
    first = next((i for i, c in enumerate(contributions) if c.facts_used), None)
    contributions = [replace(c, is_first_used=(i == first)) for i, c in enumerate(contributions)]
    merged = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    primary = store.get(source.snapshot_id)
    report = HarmoniseReport(unmapped=sorted(unmapped), unused_index_aliases=unused_aliases or [])
    return AssembledEdition(merged, primary, report, tuple(contributions))
