"""The release brief: one self-contained HTML page per edition, for people rather than BI tools.

It answers what a department head asks the morning an index comes out: what was released,
where the focus city stands and how that changed, how far the top 5 is, which measures drag
the result down and who owns them, and when the next releases are due. Everything comes from
the mart views (so the brief and the dashboards never disagree); charts are inlined as data
URIs so the file can be mailed or archived on its own.

The page carries no generation timestamp: the same warehouse gives the same bytes, and a
brief is only rewritten when its content changes.

Also here: the markdown that the `warehouse_scores` asset attaches to each load (rank chart
and scorecard table), built from the warehouse right after the load.
"""

from __future__ import annotations

import html
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from .catalog import Catalog
from .charts import data_uri, markdown_image, rank_history_png, rank_overview_png
from .focus import FocusConfig, focus_config, write_focus_config
from .notify import Headline, fetch_headline, format_number, release_label
from .settings import Settings


class BriefError(RuntimeError):
    """No brief can be written (nothing loaded, unknown index). The message says what is missing."""


@dataclass(frozen=True)
class BriefResult:
    index_code: str
    edition: str
    path: Path
    written: bool
    headline: Headline


def _rows(conn: psycopg.Connection, query: str, params: dict | tuple = ()) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


def fetch_rank_history(conn: psycopg.Connection, index_code: str, city_key: str) -> list[tuple[str, int | None]]:
    """(edition, overall rank) for the city, oldest first; editions without the city are left out."""
    rows = conn.execute(
        """SELECT edition, rank FROM mart.score_history
           WHERE index_code = %s AND city_key = %s AND measure = 'total' ORDER BY edition_seq""",
        (index_code, city_key)).fetchall()
    return [(edition, rank) for edition, rank in rows]


def _edition_table(conn: psycopg.Connection, index_code: str, edition: str, config: FocusConfig) -> list[dict]:
    """The edition's top 5 plus the focus city and its peers, best first."""
    return _rows(conn, """
        SELECT city_key, city, rank, rank_tied, score, previous_edition, rank_change
        FROM mart.score_history
        WHERE index_code = %(code)s AND edition = %(edition)s AND measure = 'total'
          AND (rank <= 5 OR city_key = ANY(%(keys)s))
        ORDER BY rank NULLS LAST, city""",
        {"code": index_code, "edition": edition, "keys": [config.focus_key, *config.peer_keys]})


def _rank_text(rank: int | None, tied: bool = False) -> str:
    if rank is None:
        return "n/d"
    return ("=" if tied else "") + str(rank)


def _change_text(change: int | None, previous: str | None) -> str:
    if previous is None:
        return "new"
    if change is None:
        return "n/d"
    return "=" if change == 0 else (f"▲{change}" if change > 0 else f"▼{-change}")


def release_markdown(conn: psycopg.Connection, settings: Settings, catalog: Catalog, index_code: str,
                     edition: str, logger=None) -> tuple[dict[str, str], Headline | None]:
    """Markdown for the loaded asset (rank chart, scorecard table) and the focus city's headline.

    Never raises: a chart or a query that fails must not fail the load it describes; the
    problem is logged as a warning and the load's metadata simply lacks the picture.
    """
    try:
        config = focus_config(settings, catalog)
        with conn.transaction():
            headline = fetch_headline(conn, index_code, edition, config.focus_key)
            history = fetch_rank_history(conn, index_code, config.focus_key)
            table = _edition_table(conn, index_code, edition, config)
    except Exception as exc:  # noqa: BLE001 - pictures are optional, the load is not
        if logger is not None:
            logger.warning(f"no chart or scorecard for {index_code} {edition}: {type(exc).__name__}: {exc}")
        return {}, None
    city = headline.city if headline else settings.focus_city
    out: dict[str, str] = {}
    if headline is not None:
        out["headline"] = headline.text
    try:
        png = rank_history_png(history, city=city, index_code=index_code,
                               city_count=headline.city_count if headline else None)
        out["rank_history"] = markdown_image(png, f"{city} rank history in {index_code}")
    except Exception as exc:  # noqa: BLE001
        if logger is not None:
            logger.warning(f"rank chart for {index_code} failed: {type(exc).__name__}: {exc}")
    lines = [f"**{release_label(index_code, edition)}** — top 5, {city} and peers", "",
             "| rank | city | score | change |", "|---:|---|---:|---:|"]
    for r in table:
        name = r["city"].replace("|", "\\|")
        name = f"**{name}**" if r["city_key"] == config.focus_key else name
        lines.append(f"| {_rank_text(r['rank'], r['rank_tied'])} | {name} | {format_number(r['score'])} | "
                     f"{_change_text(r['rank_change'], r['previous_edition'])} |")
    out["scorecard"] = "\n".join(lines)
    return out, headline


# ---------------------------------------------------------------------------------------------
# The HTML brief

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans KR",sans-serif;max-width:60rem;margin:2rem auto;
padding:0 1rem;color:#1d2733;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d5dde6;padding-bottom:.2rem}
.sub{color:#5a6b7d;margin-top:0}.headline{font-size:1.25rem;font-weight:600;background:#eef4fb;padding:.7rem 1rem;
border-left:4px solid #1f5fa8}table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0}
th,td{border-bottom:1px solid #e3e8ee;padding:.3rem .5rem;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}tr.focus td{font-weight:600;background:#f5f9fd}
.note{color:#5a6b7d;font-size:.85rem}img{max-width:100%;height:auto}
"""


def _esc(value) -> str:
    if value is None:
        return "—"
    if hasattr(value, "quantize"):
        return html.escape(format_number(value))
    return html.escape(str(value))


def _table(headers: list[tuple[str, str]], rows: list[dict], *, table_id: str, focus_key: str | None = None,
           numeric: tuple[str, ...] = ()) -> str:
    """An HTML table; every cell carries data-field so readers (and tests) can find a number by name."""
    if not rows:
        return f'<p class="note" id="{table_id}">None.</p>'
    head = "".join(f'<th class="{"num" if f in numeric else ""}">{html.escape(label)}</th>' for f, label in headers)
    body = []
    for row in rows:
        cls = ' class="focus"' if focus_key is not None and row.get("city_key") == focus_key else ""
        cells = "".join(f'<td data-field="{f}" class="{"num" if f in numeric else ""}">{_esc(row.get(f))}</td>'
                        for f, _ in headers)
        body.append(f"<tr{cls}>{cells}</tr>")
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _image(png: bytes, alt: str, image_id: str) -> str:
    return f'<img id="{image_id}" alt="{html.escape(alt)}" src="{data_uri(png)}">'


def latest_release(conn: psycopg.Connection, index_code: str | None = None) -> tuple[str, str]:
    """(index, edition) of the newest loaded edition: of one index, or the latest published overall."""
    if index_code:
        row = conn.execute("""SELECT index_code, edition FROM warehouse.dim_edition WHERE index_code = %s
                              ORDER BY edition_seq DESC LIMIT 1""", (index_code.upper(),)).fetchone()
    else:
        row = conn.execute("""SELECT index_code, edition FROM warehouse.dim_edition
                              ORDER BY published_on DESC NULLS LAST, index_code LIMIT 1""").fetchone()
    if row is None:
        what = f"no {index_code.upper()} edition" if index_code else "no edition"
        raise BriefError(f"{what} is loaded yet; run `cityrank run` first")
    return row[0], row[1]


def render_brief(conn: psycopg.Connection, catalog: Catalog, config: FocusConfig, index_code: str, edition: str) -> tuple[str, Headline]:
    """The brief for one edition as an HTML string (reads the mart; refresh it first)."""
    entry = catalog[index_code]
    headline = fetch_headline(conn, index_code, edition, config.focus_key)
    if headline is None:
        raise BriefError(f"{index_code} edition {edition!r} is not loaded")
    city = headline.city
    focus = config.focus_key
    gap = _rows(conn, "SELECT * FROM mart.top5_gap WHERE index_code = %s", (index_code,))
    released = _edition_table(conn, index_code, edition, config)
    for r in released:
        r["rank_text"] = _rank_text(r["rank"], r["rank_tied"])
        r["change_text"] = _change_text(r["rank_change"], r["previous_edition"])
    peers = _rows(conn, """SELECT peer_city, peer_rank, focus_lead_ranks, peer_score, focus_lead_points, edition
                           FROM mart.peer_comparison WHERE index_code = %s AND measure = 'total'
                           ORDER BY peer_rank NULLS LAST, peer_position""", (index_code,))
    weak_here = _rows(conn, """SELECT priority, measure_name, measure_rank, overall_rank, rank_gap, department,
                                      CASE WHEN city_can_influence THEN 'yes' ELSE 'no' END AS influence, edition
                               FROM mart.weak_indicators WHERE index_code = %s ORDER BY priority""", (index_code,))
    weak_all = _rows(conn, """SELECT priority, index_code, measure_name, measure_rank, overall_rank, rank_gap, department,
                                     CASE WHEN city_can_influence THEN 'yes' ELSE 'no' END AS influence, edition
                              FROM mart.weak_indicators ORDER BY priority LIMIT 10""")
    departments = _rows(conn, """SELECT department, indices, weak_measure_count, influenceable_count, weak_measures,
                                        to_char(next_release, 'YYYY-MM') AS next_release, next_release_indices
                                 FROM mart.department_actions
                                 WHERE weak_measure_count > 0 OR indices IS NOT NULL
                                 ORDER BY first_priority NULLS LAST, department""")
    overview = _rows(conn, """SELECT index_code, edition, rank, city_count, gap_ranks, gap_points, gap_percent, trend
                              FROM mart.top5_gap ORDER BY index_code""")
    source = _rows(conn, """SELECT source_url, confidence, note FROM mart.city_scores s
                            JOIN warehouse.dim_city c ON c.name = s.city
                            WHERE s.index_code = %s AND s.edition = %s AND c.city_key = %s AND s.measure = 'total'""",
                   (index_code, edition, focus))

    history = fetch_rank_history(conn, index_code, focus)
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_esc(release_label(index_code, edition))} release brief — {_esc(city)}</title>",
        f"<style>{CSS}</style></head><body>",
        f'<h1>{_esc(entry.name)} ({_esc(index_code)}) {_esc(edition)}: release brief for {_esc(city)}</h1>',
        f'<p class="sub">{_esc(entry.publisher)} · published {_esc(headline.published_on or "date unknown")} · '
        f'{_esc(headline.city_count or "?")} cities ranked · {_esc(entry.name_ko)}</p>',
        f'<p class="headline" id="headline">{_esc(headline.text)}</p>',
        _table([("rank", "Rank"), ("city_count", "Cities ranked"), ("score", "Score"),
                ("previous_edition", "Previous edition"), ("previous_rank", "Previous rank"), ("rank_change", "Places gained")],
               [{"rank": _rank_text(headline.rank, headline.rank_tied) if headline.listed else None,
                 "city_count": headline.city_count, "score": headline.score,
                 "previous_edition": headline.previous_edition, "previous_rank": headline.previous_rank,
                 "rank_change": headline.rank_change}],
               table_id="result", numeric=("rank", "city_count", "score", "previous_rank", "rank_change")),
        _image(rank_history_png(history, city=city, index_code=index_code, city_count=headline.city_count),
               f"{city} rank history in {index_code}", "rank-history"),
        "<h2>Distance to the top 5</h2>",
    ]
    if gap:
        g = gap[0]
        stale = "" if g["edition"] == edition else \
            f'<p class="note">{_esc(city)} is not in the {_esc(edition)} figures; the gap is from {_esc(g["edition"])}.</p>'
        parts += [stale, _table(
            [("edition", "Edition"), ("rank", "Rank"), ("fifth_city", "5th place"), ("fifth_score", "5th-place score"),
             ("gap_basis", "Gap in"), ("gap_ranks", "Places to climb"), ("gap_points", "Points behind"),
             ("gap_percent", "% behind"), ("pace_per_edition", "Pace per edition"), ("trend", "Trend")],
            gap, table_id="top5-gap",
            numeric=("rank", "fifth_score", "gap_ranks", "gap_points", "gap_percent", "pace_per_edition"))]
    else:
        parts.append(f'<p class="note" id="top5-gap">{_esc(city)} has no overall figure in {_esc(index_code)}.</p>')
    parts += [
        f"<h2>What was released: {_esc(release_label(index_code, edition))}</h2>",
        f'<p class="note">The top 5, {_esc(city)} and its peers as loaded (▲ places gained since each city\'s previous edition).</p>',
        _table([("rank_text", "Rank"), ("city", "City"), ("score", "Score"), ("change_text", "Change")],
               released, table_id="released", focus_key=focus, numeric=("rank_text", "score", "change_text")),
        f"<h2>{_esc(city)} against its peers</h2>",
        _table([("peer_city", "Peer"), ("peer_rank", "Peer rank"), ("focus_lead_ranks", f"{city} ahead by (places)"),
                ("peer_score", "Peer score"), ("focus_lead_points", f"{city} ahead by (points)")],
               peers, table_id="peers", numeric=("peer_rank", "focus_lead_ranks", "peer_score", "focus_lead_points")),
        f"<h2>Weak indicators in {_esc(index_code)}</h2>",
        f'<p class="note">Measures where {_esc(city)} ranks below its overall rank, in the latest edition with measure ranks.</p>',
        _table([("priority", "Priority"), ("measure_name", "Measure"), ("measure_rank", "Rank"),
                ("overall_rank", "Overall rank"), ("rank_gap", "Places behind overall"), ("department", "Department"),
                ("influence", "City can influence"), ("edition", "Edition")],
               weak_here, table_id="weak-here", numeric=("priority", "measure_rank", "overall_rank", "rank_gap")),
        *_path_and_methodology(conn, index_code, city),
        "<h2>Action list across all indices</h2>",
        _table([("priority", "Priority"), ("index_code", "Index"), ("measure_name", "Measure"), ("measure_rank", "Rank"),
                ("overall_rank", "Overall rank"), ("rank_gap", "Places behind overall"), ("department", "Department"),
                ("influence", "City can influence"), ("edition", "Edition")],
               weak_all, table_id="weak-all", numeric=("priority", "measure_rank", "overall_rank", "rank_gap")),
        "<h2>Departments</h2>",
        _table([("department", "Department"), ("indices", "Owns"), ("weak_measure_count", "Weak measures"),
                ("influenceable_count", "Influenceable"), ("weak_measures", "Which"), ("next_release", "Next release"),
                ("next_release_indices", "Index due")],
               departments, table_id="departments", numeric=("weak_measure_count", "influenceable_count")),
        f"<h2>{_esc(city)} in every index</h2>",
        _image(rank_overview_png([(r["index_code"], r["rank"]) for r in overview], city=city),
               f"{city} latest rank per index", "overview"),
        _table([("index_code", "Index"), ("edition", "Edition"), ("rank", "Rank"), ("city_count", "Cities"),
                ("gap_ranks", "Places to top 5"), ("gap_points", "Points behind 5th"), ("trend", "Trend")],
               overview, table_id="overview-table", numeric=("rank", "city_count", "gap_ranks", "gap_points")),
        "<h2>Sources</h2>",
    ]
    if source:
        s = source[0]
        link = (f'<a href="{html.escape(s["source_url"], quote=True)}">{_esc(s["source_url"])}</a>'
                if s["source_url"] and re.match(r"^https?://", s["source_url"]) else _esc(s["source_url"]))
        parts.append(f'<p class="note" id="source">{_esc(city)}\'s {_esc(release_label(index_code, edition))} figure: {link} '
                     f'(confidence: {_esc(s["confidence"])}){" — " + _esc(s["note"]) if s["note"] else ""}</p>')
    parts += ['<p class="note">From the cityrank warehouse (mart views). n/d = not disclosed by the publisher.</p>',
              "</body></html>", ""]
    return "\n".join(p for p in parts if p), headline


def _path_and_methodology(conn: psycopg.Connection, index_code: str, city: str) -> list[str]:
    """The path to the top 5 (additive indices) and what the newest indicator edition changed."""
    from .path_plan import fetch_plans

    parts: list[str] = []
    for plan in fetch_plans(conn, index_code=index_code):
        parts.append(f"<h2>Path to the top 5 ({_esc(index_code)} {_esc(plan.edition)}, indicator scores)</h2>")
        if plan.needed is None:
            parts.append(f'<p class="note" id="path">{_esc(city)} is already in the top {plan.target_rank}.</p>')
            continue
        intro = (f"{city} is {plan.current_rank}th with {plan.current_total:,.2f}; {plan.target_city} is "
                 f"{plan.target_rank}th with {plan.target_total:,.2f}: {plan.needed:,.2f} points to gain, others held fixed.")
        if not plan.feasible:
            parts.append(f'<p class="note" id="path">{_esc(intro)} No plan within the limits: every indicator the city '
                         f'can influence at the best score any city reaches adds {plan.total_effect:,.2f}.</p>')
            continue
        parts.append(f'<p class="note" id="path">{_esc(intro)} The cheapest plan raises {len(plan.steps)} indicator(s) '
                     f'by {plan.total_gain:,.2f} points in all (largest effect on the total per point first; no indicator '
                     f'above the best score any city reaches).</p>')
        rows = [{"department": dept, "measure": s.measure_name, "sub_index": s.sub_index,
                 "now": f"{s.current_score:,.2f}", "target": f"{s.target_score:,.2f}", "gain": f"{s.gain:,.2f}",
                 "effect": f"{s.effect_on_total:,.2f}"}
                for dept, steps in plan.by_department().items() for s in steps]
        parts.append(_table([("department", "Department"), ("measure", "Indicator"), ("sub_index", "Function"),
                             ("now", "Score now"), ("target", "Target score"), ("gain", "Gain"),
                             ("effect", "Effect on total")], rows, table_id="path-to-top5",
                            numeric=("now", "target", "gain", "effect")))
    changes = _rows(conn, """WITH changed AS (
                                 SELECT m.*, e.edition_seq FROM mart.methodology_changes m
                                 JOIN warehouse.dim_edition e ON e.index_code = m.index_code AND e.edition = m.edition
                                 WHERE m.index_code = %s)
                             SELECT edition, previous_edition, change, measure_code, printed_name, previous_printed_name
                             FROM changed WHERE edition_seq = (SELECT max(edition_seq) FROM changed)
                             ORDER BY change, measure_code""", (index_code,))
    if changes:
        first = changes[0]
        said = "; ".join(
            f"{c['change']} {c['printed_name'] or c['previous_printed_name']}"
            + (f" (was {c['previous_printed_name']})" if c["change"] == "reworded" else "") for c in changes)
        parts.append(f'<h2>Methodology changes</h2><p class="note" id="methodology">{_esc(index_code)} '
                     f'{_esc(first["edition"])} measures differently from {_esc(first["previous_edition"])}: '
                     f'{_esc(said)}. Ranks on these indicators are not comparable across the two editions.</p>')
    return parts


def brief_path(settings: Settings, index_code: str, edition: str, city_key: str) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "-", edition.lower()).strip("-")
    return settings.briefs_dir / f"{index_code.lower()}-{slug}-{city_key}.html"


def _write_if_changed(path: Path, text: str) -> bool:
    data = text.encode("utf-8")
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as tmp:
        tmp.write(data)
    os.chmod(tmp.name, 0o644)  # a brief is for sharing; mkstemp would leave it owner-only
    os.replace(tmp.name, path)  # readers never see half a brief
    return True


def prepare_mart(conn: psycopg.Connection, settings: Settings, catalog: Catalog) -> None:
    """Focus configuration written and materialised views refreshed, so the brief is current."""
    from .orchestration.views import refresh_materialized_views

    with conn.transaction():
        write_focus_config(conn, settings, catalog)
        refresh_materialized_views(conn)


def write_brief(conn: psycopg.Connection, settings: Settings, catalog: Catalog, index_code: str | None = None,
                edition: str | None = None) -> BriefResult:
    """Write the brief of one edition (default: the newest release) to CITYRANK_HOME/briefs/."""
    config = focus_config(settings, catalog)
    if edition is None:
        index_code, edition = latest_release(conn, index_code)
    elif index_code is None:
        raise BriefError("an edition needs its index")
    index_code = catalog[index_code].code
    text, headline = render_brief(conn, catalog, config, index_code, edition)
    path = brief_path(settings, index_code, edition, config.focus_key)
    return BriefResult(index_code, edition, path, _write_if_changed(path, text), headline)


def write_latest_briefs(conn: psycopg.Connection, settings: Settings, catalog: Catalog) -> list[BriefResult]:
    """The brief of every index's latest loaded edition (unchanged files are left alone)."""
    codes = [r[0] for r in conn.execute("SELECT DISTINCT index_code FROM warehouse.dim_edition ORDER BY 1").fetchall()]
    return [write_brief(conn, settings, catalog, code) for code in codes]
