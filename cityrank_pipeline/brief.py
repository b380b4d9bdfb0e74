"""The release brief: one self-contained HTML page per edition, for people rather than BI tools.

It answers what a department head asks the morning an index comes out: what was released,
where the focus city stands and how that changed, how far the top 5 is, which measures drag
the result down and who owns them, and when the next releases are due. Everything comes from
the mart views (so the brief and the dashboards never disagree); charts are inlined as data
URIs so the file can be mailed or archived on its own.

Every brief is written in English and in Korean (brief_text.py holds the words; names come
from the catalog) and carries the glyphs it uses in an embedded font (fonts.py), so Hangul
renders on a machine with no Korean font installed.

The page carries no generation timestamp: the same warehouse gives the same bytes, and a
brief is only rewritten when its content changes.

Also here: the markdown that the `warehouse_scores` asset attaches to each load (rank chart
and scorecard table), built from the warehouse right after the load.
"""

from __future__ import annotations

import functools
import html
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from . import brief_text
from .brief_text import (BASIS_KO, CHANGE_KO, CONFIDENCE_KO, LANGS, age_mark, date_text, headline_text, month_text,
                         rank_ordinal, trend_text, word)
from .catalog import Catalog
from .charts import data_uri, markdown_image, markdown_svg, rank_history_png, rank_history_svg, rank_overview_png, \
    rank_sparkline_svg
from .focus import FocusConfig, focus_config, write_focus_config
from .fonts import FONT_FAMILY, font_face_css
from .notify import Headline, fetch_headline, format_number, release_label
from .settings import Settings


@functools.lru_cache(maxsize=4)
def brief_vocabulary(catalog_directory: Path) -> str:
    """Every non-ASCII character a brief can print apart from its figures: those of the modules
    that word the briefs and of the catalog's files (names, departments, measures, in Korean).

    The embedded font is cut for this fixed set plus the page's own text, instead of for the
    page's text alone: every brief of a catalog then carries the same subset, cut once per
    refresh (or read from the font cache) instead of 18 times at ~0.36 s each. A page that
    prints a character outside the set still gets it, in a subset of its own.
    """
    texts = [Path(module.__file__).read_text(encoding="utf-8") for module in (brief_text, sys.modules[__name__])]
    texts += [path.read_text(encoding="utf-8") for path in sorted(catalog_directory.glob("*.yaml"))]
    return "".join(sorted({ch for text in texts for ch in text if ord(ch) > 0x7E and not ch.isspace()}))


class BriefError(RuntimeError):
    """No brief can be written (nothing loaded, unknown index). The message says what is missing."""


@dataclass(frozen=True)
class BriefResult:
    index_code: str
    edition: str
    path: Path
    written: bool
    headline: Headline
    lang: str = "en"
    # The headline as the brief prints it (Korean in a Korean brief).
    headline_text: str = ""


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
    out["rank_chart"] = inline_rank_chart(history, city=city, index_code=index_code, edition=edition)
    try:
        svg = rank_history_svg(history, city=city, index_code=index_code, edition=edition,
                               city_count=headline.city_count if headline else None)
        out["rank_history"] = markdown_svg(svg, f"{city} rank history in {index_code}")
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


def inline_rank_chart(history: list[tuple[str, int | None]], *, city: str, index_code: str, edition: str,
                      limit: int = 1000) -> str:
    """Markdown of a small rank chart that Dagster shows without a click (under `limit` characters):
    the newest editions that fit, always including `edition`."""
    shown = list(history)
    while True:
        rank = next((r for label, r in shown if label == edition), None)
        alt = f"{city} {index_code} rank per edition, {shown[0][0] if shown else edition}–" \
              f"{shown[-1][0] if shown else edition}; circled: {edition}" + (f" ({rank})" if rank else "")
        text = markdown_svg(rank_sparkline_svg(shown, edition=edition), alt)
        if len(text) < limit or len(shown) <= 2:
            return text
        drop = 0 if shown[0][0] != edition else 1  # trim the oldest, never the loaded edition
        shown.pop(drop)


# ---------------------------------------------------------------------------------------------
# The HTML brief

CSS = """
body{font-family:"CityrankSansKR",system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans KR",sans-serif;max-width:60rem;margin:2rem auto;
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
           numeric: tuple[str, ...] = (), lang: str = "en") -> str:
    """An HTML table; every cell carries data-field so readers (and tests) can find a number by name."""
    if not rows:
        return f'<p class="note" id="{table_id}">{html.escape(word(lang, "none"))}</p>'
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


def render_brief(conn: psycopg.Connection, catalog: Catalog, config: FocusConfig, index_code: str, edition: str,
                 lang: str = "en", font_cache: Path | None = None) -> tuple[str, Headline]:
    """The brief for one edition as an HTML string (reads the mart; refresh it first), in English or Korean.

    `font_cache` (Settings.font_cache_dir) keeps the embedded font subsets between refreshes."""
    if lang not in LANGS:
        raise BriefError(f"unknown language {lang!r}; briefs are written in {', '.join(LANGS)}")
    entry = catalog[index_code]
    headline = fetch_headline(conn, index_code, edition, config.focus_key)
    if headline is None:
        raise BriefError(f"{index_code} edition {edition!r} is not loaded")
    ko = lang == "ko"
    names = _Names(catalog, lang)
    city = names.city(headline.city)
    focus = config.focus_key
    w = functools.partial(word, lang)
    release = release_label(index_code, edition)
    gap = _rows(conn, "SELECT * FROM mart.top5_gap WHERE index_code = %s", (index_code,))
    released = _edition_table(conn, index_code, edition, config)
    for r in released:
        r["rank_text"] = _rank_text(r["rank"], r["rank_tied"])
        r["change_text"] = _change_text(r["rank_change"], r["previous_edition"])
        r["city"] = names.city(r["city"])
    peers = _rows(conn, """SELECT peer_city, peer_rank, focus_lead_ranks, peer_score, focus_lead_points, edition
                           FROM mart.peer_comparison WHERE index_code = %s AND measure = 'total'
                           ORDER BY peer_rank NULLS LAST, peer_position""", (index_code,))
    for r in peers:
        r["peer_city"] = names.city(r["peer_city"])
    weak_query = """SELECT priority, index_code, measure, measure_name, measure_rank, overall_rank, rank_gap, department,
                           city_can_influence, edition, age_years
                    FROM mart.weak_indicators {where} ORDER BY priority {limit}"""
    weak_here = names.weak(_rows(conn, weak_query.format(where="WHERE index_code = %s", limit=""), (index_code,)))
    weak_all = names.weak(_rows(conn, weak_query.format(where="", limit="LIMIT 10")))
    departments = _rows(conn, """SELECT department, indices, weak_measure_count, influenceable_count, weak_measures,
                                        next_release, next_release_indices
                                 FROM mart.department_actions
                                 WHERE weak_measure_count > 0 OR indices IS NOT NULL
                                 ORDER BY first_priority NULLS LAST, department""")
    if ko:  # the "Which" column from the same rows, in Korean
        every_weak = names.weak(_rows(conn, weak_query.format(where="", limit="")))
        which: dict[str, list[str]] = {}
        for r in every_weak:
            which.setdefault(r["department_en"], []).append(
                f"{r['index_code']} {r['measure_name']} {r['measure_rank']}위 (종합 {r['overall_rank']}위, {r['edition']})")
        for r in departments:
            r["weak_measures"] = "; ".join(which.get(r["department"], [])) or None
    for r in departments:
        r["department"] = names.department(r["department"])
        r["next_release"] = month_text(r["next_release"], lang)
    overview = _rows(conn, """SELECT index_code, edition, rank, city_count, gap_ranks, gap_points, gap_percent, trend
                              FROM mart.top5_gap ORDER BY index_code""")
    for r in [*gap, *overview]:
        r["trend"] = trend_text(r["trend"], lang)
        if ko:
            r["gap_basis"] = BASIS_KO.get(r.get("gap_basis"), r.get("gap_basis"))
            r["fifth_city"] = names.city(r["fifth_city"]) if r.get("fifth_city") else r.get("fifth_city")
    source = _rows(conn, """SELECT source_url, confidence, note FROM mart.city_scores s
                            JOIN warehouse.dim_city c ON c.name = s.city
                            WHERE s.index_code = %s AND s.edition = %s AND c.city_key = %s AND s.measure = 'total'""",
                   (index_code, edition, focus))

    history = fetch_rank_history(conn, index_code, focus)
    index_name, other_name = (entry.name_ko, entry.name) if ko else (entry.name, entry.name_ko)
    body = [
        f'<h1>{_esc(w("h1", index=index_name, code=index_code, edition=edition, city=city))}</h1>',
        f'<p class="sub">{_esc(w("sub", publisher=entry.publisher, other_name=other_name, count=headline.city_count or "?", published=date_text(headline.published_on, lang) or w("date_unknown")))}</p>',
        f'<p class="headline" id="headline">{_esc(headline_text(headline, lang, city))}</p>',
        _table([("rank", w("c_rank")), ("city_count", w("c_city_count")), ("score", w("c_score")),
                ("previous_edition", w("c_previous_edition")), ("previous_rank", w("c_previous_rank")),
                ("rank_change", w("c_rank_change"))],
               [{"rank": _rank_text(headline.rank, headline.rank_tied) if headline.listed else None,
                 "city_count": headline.city_count, "score": headline.score,
                 "previous_edition": headline.previous_edition, "previous_rank": headline.previous_rank,
                 "rank_change": headline.rank_change}],
               table_id="result", numeric=("rank", "city_count", "score", "previous_rank", "rank_change"), lang=lang),
        _image(rank_history_png(history, city=city, index_code=index_code, city_count=headline.city_count,
                                edition=edition, lang=lang),
               w("history_alt", city=city, code=index_code), "rank-history"),
        f"<h2>{_esc(w('gap'))}</h2>",
    ]
    if gap:
        g = gap[0]
        stale = "" if g["edition"] == edition else \
            f'<p class="note">{_esc(w("gap_stale", city=city, edition=edition, gap_edition=g["edition"]))}</p>'
        body += [stale, _table(
            [("edition", w("c_edition")), ("rank", w("c_rank")), ("fifth_city", w("c_fifth_city")),
             ("fifth_score", w("c_fifth_score")), ("gap_basis", w("c_gap_basis")), ("gap_ranks", w("c_gap_ranks")),
             ("gap_points", w("c_gap_points")), ("gap_percent", w("c_gap_percent")),
             ("pace_per_edition", w("c_pace")), ("trend", w("c_trend"))],
            gap, table_id="top5-gap", lang=lang,
            numeric=("rank", "fifth_score", "gap_ranks", "gap_points", "gap_percent", "pace_per_edition"))]
    else:
        body.append(f'<p class="note" id="top5-gap">{_esc(w("no_overall", city=city, code=index_code))}</p>')
    weak_columns = [("priority", w("c_priority")), ("measure_name", w("c_measure")), ("measure_rank", w("c_rank")),
                    ("overall_rank", w("c_overall_rank")), ("rank_gap", w("c_rank_gap")),
                    ("department", w("c_department")), ("influence", w("c_influence")), ("edition", w("c_edition"))]
    weak_numeric = ("priority", "measure_rank", "overall_rank", "rank_gap")
    body += [
        f"<h2>{_esc(w('released', release=release))}</h2>",
        f'<p class="note">{_esc(w("released_note", city=city))}</p>',
        _table([("rank_text", w("c_rank")), ("city", w("c_city")), ("score", w("c_score")), ("change_text", w("c_change"))],
               released, table_id="released", focus_key=focus, numeric=("rank_text", "score", "change_text"), lang=lang),
        f"<h2>{_esc(w('peers', city=city))}</h2>",
        _table([("peer_city", w("c_peer")), ("peer_rank", w("c_peer_rank")),
                ("focus_lead_ranks", w("c_lead_ranks", city=city)), ("peer_score", w("c_peer_score")),
                ("focus_lead_points", w("c_lead_points", city=city))],
               peers, table_id="peers", numeric=("peer_rank", "focus_lead_ranks", "peer_score", "focus_lead_points"),
               lang=lang),
        f"<h2>{_esc(w('weak_here', code=index_code))}</h2>",
        f'<p class="note">{_esc(w("weak_note", city=city))}</p>',
        _table(weak_columns, weak_here, table_id="weak-here", numeric=weak_numeric, lang=lang),
        *_path_and_methodology(conn, index_code, city, catalog, lang),
        f"<h2>{_esc(w('actions'))}</h2>",
        _table(weak_columns[:1] + [("index_code", w("c_index"))] + weak_columns[1:], weak_all, table_id="weak-all",
               numeric=weak_numeric, lang=lang),
        f"<h2>{_esc(w('departments'))}</h2>",
        _table([("department", w("c_department")), ("indices", w("c_owns")), ("weak_measure_count", w("c_weak_count")),
                ("influenceable_count", w("c_influenceable")), ("weak_measures", w("c_which")),
                ("next_release", w("c_next_release")), ("next_release_indices", w("c_index_due"))],
               departments, table_id="departments", numeric=("weak_measure_count", "influenceable_count"), lang=lang),
        f"<h2>{_esc(w('every_index', city=city))}</h2>",
        _image(rank_overview_png([(r["index_code"], r["rank"]) for r in overview], city=city, lang=lang),
               w("overview_alt", city=city), "overview"),
        _table([("index_code", w("c_index")), ("edition", w("c_edition")), ("rank", w("c_rank")),
                ("city_count", w("c_cities")), ("gap_ranks", w("c_to_top5")), ("gap_points", w("c_behind_fifth")),
                ("trend", w("c_trend"))],
               overview, table_id="overview-table", numeric=("rank", "city_count", "gap_ranks", "gap_points"), lang=lang),
        f"<h2>{_esc(w('sources'))}</h2>",
    ]
    if source:
        s = source[0]
        link = (f'<a href="{html.escape(s["source_url"], quote=True)}">{_esc(s["source_url"])}</a>'
                if s["source_url"] and re.match(r"^https?://", s["source_url"]) else _esc(s["source_url"]))
        confidence = CONFIDENCE_KO.get(s["confidence"], s["confidence"]) if ko else s["confidence"]
        text = w("source", city="{city}", release="{release}", link="{link}", confidence="{confidence}",
                 note="{note}")
        pieces = {"city": _esc(city), "release": _esc(release), "link": link, "confidence": _esc(confidence),
                  "note": " — " + _esc(s["note"]) if s["note"] else ""}
        body.append(f'<p class="note" id="source">{_fill_escaped(text, pieces)}</p>')
    body.append(f'<p class="note">{_esc(w("footer"))}</p>')
    body = [b for b in body if b]
    title = w("title", release=release, city=city)
    page_text = html.unescape(re.sub(r"<[^>]+>", " ", title + "".join(body)))
    parts = ["<!DOCTYPE html>", f'<html lang="{lang}"><head><meta charset="utf-8">',
             f"<title>{_esc(title)}</title>",
             f"<style>{font_face_css(brief_vocabulary(catalog.directory) + page_text, font_cache)}{CSS}</style></head><body>", *body, "</body></html>", ""]
    return "\n".join(parts), headline


def _fill_escaped(template: str, pieces: dict[str, str]) -> str:
    """The template (escaped) with already-escaped HTML pieces put in its {placeholders}."""
    out = html.escape(template)
    for key, value in pieces.items():
        out = out.replace("{" + key + "}", value)
    return out


class _Names:
    """City, measure and department names in the brief's language, from the catalog."""

    def __init__(self, catalog: Catalog, lang: str):
        self.catalog, self.lang = catalog, lang

    def city(self, name: str | None) -> str | None:
        return self.catalog.city_name_ko(name) if self.lang == "ko" and name else name

    def department(self, name: str | None) -> str | None:
        return self.catalog.department_ko(name) if self.lang == "ko" else name

    def measure(self, index_code: str, code: str, printed: str) -> str:
        if self.lang != "ko":
            return printed
        try:
            return self.catalog[index_code].measure(code).name_ko or printed
        except KeyError:
            return printed

    def sub_index(self, index_code: str, name: str) -> str:
        """A function's Korean name from its English one (path plans carry names, not codes)."""
        if self.lang != "ko":
            return name
        found = next((m for m in self.catalog[index_code].measures if m.name == name), None)
        return found.name_ko or name if found else name

    def weak(self, rows: list[dict]) -> list[dict]:
        """mart.weak_indicators rows as the brief shows them: names translated, old editions marked with their age."""
        for r in rows:
            r["measure_name"] = self.measure(r["index_code"], r["measure"], r["measure_name"])
            r["department_en"] = r["department"]
            r["department"] = self.department(r["department"])
            r["influence"] = word(self.lang, "yes" if r["city_can_influence"] else "no")
            r["edition"] = f"{r['edition']}{age_mark(r['age_years'], self.lang)}"
        return rows


def _path_and_methodology(conn: psycopg.Connection, index_code: str, city: str, catalog: Catalog | None = None,
                          lang: str = "en") -> list[str]:
    """The path to the top 5 (additive indices) and what the newest indicator edition changed."""
    from .path_plan import fetch_plans

    w = functools.partial(word, lang)
    names = _Names(catalog, lang) if catalog is not None else None
    ko = lang == "ko" and names is not None
    parts: list[str] = []
    for plan in fetch_plans(conn, index_code=index_code):
        parts.append(f"<h2>{_esc(w('path_h', code=index_code, edition=plan.edition))}</h2>")
        if plan.needed is None:
            parts.append(f'<p class="note" id="path">{_esc(w("path_in_top", city=city, target=plan.target_rank))}</p>')
            continue
        intro = w("path_intro", city=city, rank_ordinal=rank_ordinal(plan.current_rank, lang),
                  total=f"{plan.current_total:,.2f}", target_city=names.city(plan.target_city) if ko else plan.target_city,
                  target_ordinal=rank_ordinal(plan.target_rank, lang), target_total=f"{plan.target_total:,.2f}",
                  needed=f"{plan.needed:,.2f}")
        if not plan.feasible:
            parts.append(f'<p class="note" id="path">{_esc(intro)} '
                         f'{_esc(w("path_infeasible", effect=f"{plan.total_effect:,.2f}"))}</p>')
            continue
        parts.append(f'<p class="note" id="path">{_esc(intro)} '
                     f'{_esc(w("path_plan", steps=len(plan.steps), gain=f"{plan.total_gain:,.2f}"))}</p>')
        rows = [{"department": names.department(dept) if ko else dept,
                 "measure": names.measure(index_code, s.measure_code, s.measure_name) if ko else s.measure_name,
                 "sub_index": names.sub_index(index_code, s.sub_index) if ko else s.sub_index,
                 "now": f"{s.current_score:,.2f}", "target": f"{s.target_score:,.2f}", "gain": f"{s.gain:,.2f}",
                 "effect": f"{s.effect_on_total:,.2f}"}
                for dept, steps in plan.by_department().items() for s in steps]
        parts.append(_table([("department", w("c_department")), ("measure", w("c_indicator")),
                             ("sub_index", w("c_function")), ("now", w("c_now")), ("target", w("c_target")),
                             ("gain", w("c_gain")), ("effect", w("c_effect"))], rows, table_id="path-to-top5",
                            numeric=("now", "target", "gain", "effect"), lang=lang))
    changes = _rows(conn, """WITH changed AS (
                                 SELECT m.*, e.edition_seq FROM mart.methodology_changes m
                                 JOIN warehouse.dim_edition e ON e.index_code = m.index_code AND e.edition = m.edition
                                 WHERE m.index_code = %s)
                             SELECT edition, previous_edition, change, measure_code, printed_name, previous_printed_name
                             FROM changed WHERE edition_seq = (SELECT max(edition_seq) FROM changed)
                             ORDER BY change, measure_code""", (index_code,))
    if changes:
        first = changes[0]

        def said(c: dict) -> str:
            printed = c["printed_name"] or c["previous_printed_name"]
            if ko:
                return (f"{CHANGE_KO.get(c['change'], c['change'])} "
                        f"{names.measure(index_code, c['measure_code'], printed)}"
                        + (w("reworded_was", previous=c["previous_printed_name"]) if c["change"] == "reworded" else ""))
            return (f"{c['change']} {printed}"
                    + (w("reworded_was", previous=c["previous_printed_name"]) if c["change"] == "reworded" else ""))

        text = w("methodology", code=index_code, edition=first["edition"], previous=first["previous_edition"],
                 changes="; ".join(said(c) for c in changes))
        parts.append(f'<h2>{_esc(w("methodology_h"))}</h2><p class="note" id="methodology">{_esc(text)}</p>')
    return parts


def brief_path(settings: Settings, index_code: str, edition: str, city_key: str, lang: str = "en") -> Path:
    """briefs/<index>-<edition>-<city>.html in English, with a -ko suffix in Korean."""
    slug = re.sub(r"[^a-z0-9]+", "-", edition.lower()).strip("-")
    suffix = "" if lang == "en" else f"-{lang}"
    return settings.briefs_dir / f"{index_code.lower()}-{slug}-{city_key}{suffix}.html"


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
                edition: str | None = None, lang: str = "en") -> BriefResult:
    """Write the brief of one edition (default: the newest release) to CITYRANK_HOME/briefs/, in `lang`."""
    config = focus_config(settings, catalog)
    if edition is None:
        index_code, edition = latest_release(conn, index_code)
    elif index_code is None:
        raise BriefError("an edition needs its index")
    index_code = catalog[index_code].code
    text, headline = render_brief(conn, catalog, config, index_code, edition, lang, settings.font_cache_dir)
    path = brief_path(settings, index_code, edition, config.focus_key, lang)
    shown = headline_text(headline, lang, _Names(catalog, lang).city(headline.city))
    return BriefResult(index_code, edition, path, _write_if_changed(path, text), headline, lang, shown)


def write_latest_briefs(conn: psycopg.Connection, settings: Settings, catalog: Catalog) -> list[BriefResult]:
    """The brief of every index's latest loaded edition in every language (unchanged files are left alone)."""
    codes = [r[0] for r in conn.execute("SELECT DISTINCT index_code FROM warehouse.dim_edition ORDER BY 1").fetchall()]
    return [write_brief(conn, settings, catalog, code, lang=lang) for code in codes for lang in LANGS]
