"""Rank charts as PNG bytes: pure functions of the figures, no database, no global state.

Ranks read best at the top, so the y-axis is inverted with 1 at the top and the top-5 target
drawn as a line. Figures are built on matplotlib's object API with the Agg canvas (not
pyplot), so concurrent Dagster steps and the CLI never share a current figure, and PNG
metadata is stripped so the same figures give the same bytes (briefs are only rewritten when
their content changes).

Labels come in English or Korean (lang="ko"); Korean text is set in the committed Korean font
(fonts.py) as a fallback behind matplotlib's default, so a machine without Korean fonts still
draws Hangul instead of empty boxes.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from functools import lru_cache
from xml.sax.saxutils import escape as xml_escape

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# matplotlib (~0.35 s to import) is imported where a PNG is drawn: only briefs draw them, and
# every process that loads the Dagster definitions (each `cityrank run` and worker, the code
# server) imports this module for its SVG charts.

TARGET_RANK = 5
FOCUS_COLOUR = "#1f5fa8"
TARGET_COLOUR = "#c0392b"


def _families(lang: str) -> list[str]:
    """Font families for a figure's text: DejaVu first (matplotlib's own), the Korean font behind it."""
    if lang != "ko":
        return ["DejaVu Sans"]
    from .fonts import register_with_matplotlib

    return ["DejaVu Sans", register_with_matplotlib()]


def _apply_families(figure: Figure, lang: str) -> None:
    families = _families(lang)
    for text in figure.findobj(lambda artist: hasattr(artist, "set_fontfamily")):
        text.set_fontfamily(families)


def _png(figure: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def _rank_ticks(worst: int) -> list[int]:
    """1 always (the top is the point), then round steps down to the worst rank shown."""
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 1000) if worst / s <= 10)
    return sorted({1, *range(step, worst + 1, step)})


def rank_history_png(history: Sequence[tuple[str, int | None]], *, city: str, index_code: str,
                     city_count: int | None = None, edition: str | None = None, lang: str = "en") -> bytes:
    """The city's rank per edition (oldest first) as PNG bytes; undisclosed ranks are gaps."""
    return _png(rank_history_figure(history, city=city, index_code=index_code, city_count=city_count,
                                    edition=edition, lang=lang))


def _history_title(history, *, city: str, index_code: str, city_count: int | None, edition: str | None,
                   lang: str) -> str:
    """Title for the edition the chart is about: `edition` (with its own city_count), else the newest disclosed.

    A chart attached to an older edition's load must not read as the newest edition's result
    (GPCI 2016 was once titled "6 of 42 in 2025": 2025's rank with 2016's city count).
    """
    if edition is not None:
        about = next(((label, r) for label, r in history if label == edition), (edition, None))
    else:
        about = next(((label, r) for label, r in reversed(history) if r is not None), (None, None))
    label, rank = about
    if lang == "ko":
        of = f" ({city_count}개 도시 중)" if city_count else ""
        result = f"{label} {rank}위{of}" if rank is not None else (f"{label} 순위 비공개" if label else "공개된 순위 없음")
        return f"{index_code}의 {city}: {result} (점선: {TARGET_RANK}위)"
    of = f" of {city_count}" if city_count else ""
    result = f"{rank}{of} in {label}" if rank is not None else (f"rank not disclosed in {label}" if label else "no disclosed rank")
    return f"{city} in {index_code}: {result} (dashed line: top {TARGET_RANK})"


def rank_history_figure(history: Sequence[tuple[str, int | None]], *, city: str, index_code: str,
                        city_count: int | None = None, edition: str | None = None, lang: str = "en") -> Figure:
    """The figure behind rank_history_png (separate so its axes can be inspected)."""
    from matplotlib.figure import Figure

    labels = [label for label, _ in history]
    ranks = [rank for _, rank in history]
    figure = Figure(figsize=(6.4, 3.2))
    ax = figure.add_subplot()
    positions = list(range(len(labels)))
    ax.plot(positions, [float("nan") if r is None else r for r in ranks], marker="o", color=FOCUS_COLOUR,
            linewidth=2)
    for x, rank in zip(positions, ranks):
        if rank is not None:
            ax.annotate(str(rank), (x, rank), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
    known = [r for r in ranks if r is not None]
    worst = max(known + [TARGET_RANK])
    ax.axhline(TARGET_RANK, color=TARGET_COLOUR, linestyle="--", linewidth=1)
    ax.set_ylim(worst + max(1, worst * 0.1), 0.5)  # inverted: rank 1 at the top
    ax.set_yticks(_rank_ticks(worst))
    ax.set_xticks(positions, labels, rotation=45 if len(labels) > 8 else 0, ha="right" if len(labels) > 8 else "center",
                  fontsize=8)
    ax.set_xlim(-0.5, max(len(labels) - 0.5, 0.5))
    if edition in labels and ranks[labels.index(edition)] is not None:
        ax.plot([labels.index(edition)], [ranks[labels.index(edition)]], marker="o", markersize=11,
                markerfacecolor="none", markeredgecolor=TARGET_COLOUR, linestyle="none")
    ax.set_ylabel("순위 (1 = 최고)" if lang == "ko" else "rank (1 = best)")
    ax.set_title(_history_title(history, city=city, index_code=index_code, city_count=city_count, edition=edition,
                                lang=lang), fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    _apply_families(figure, lang)
    # Fixed margins rather than tight_layout(), which draws the whole figure once more to
    # measure its text: one of these is drawn for every edition a run loads (0.16 -> 0.09 s each).
    # The room is sized for rotated labels such as "GFCI 38" and three-digit ranks.
    figure.subplots_adjust(left=0.11, right=0.98, top=0.9, bottom=0.22 if len(labels) > 8 else 0.13)
    return figure


def rank_history_svg(history: Sequence[tuple[str, int | None]], *, city: str, index_code: str,
                     city_count: int | None = None, edition: str | None = None, width: int = 640,
                     height: int = 320) -> str:
    """The rank_history_png picture as SVG text, for the metadata of every edition a run loads.

    Why not the PNG: matplotlib took ~0.1 s per picture (building the figure, laying out its
    text, rasterising it), once per edition loaded: ~5 s of a first run's 54 editions. This
    draws the same chart (rank 1 at the top, the top-5 line dashed, each disclosed rank
    labelled, `edition` circled, undisclosed ranks as gaps, the same title) in microseconds,
    and the browser renders it sharp at any zoom. Briefs keep the PNG: they are print pages.
    """
    labels = [label for label, _ in history]
    ranks = [rank for _, rank in history]
    worst = max([r for r in ranks if r is not None] + [TARGET_RANK])
    rotated = len(labels) > 8
    left, right, top, bottom = 62, width - 14, 34, height - (64 if rotated else 42)
    y_bottom = worst + max(1, worst * 0.1)  # the same inverted limits as the PNG: 0.5 at the top

    def x_of(i: int) -> float:
        span = max(len(labels) - 0.5, 0.5) + 0.5
        return left + (right - left) * ((i + 0.5) / span)

    def y_of(rank: float) -> float:
        return top + (bottom - top) * ((rank - 0.5) / (y_bottom - 0.5))

    def text(x: float, y: float, value: str, size: int, anchor: str = "middle", extra: str = "") -> str:
        return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{extra}>'
                f'{xml_escape(value)}</text>')

    parts = [f'<rect width="{width}" height="{height}" fill="#ffffff"/>']
    for tick in _rank_ticks(worst):
        y = y_of(tick)
        parts.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#000000" '
                     f'stroke-opacity="0.15"/>')
        parts.append(text(left - 6, y + 4, str(tick), 11, "end"))
    parts.append(f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" fill="none" '
                 f'stroke="#000000" stroke-width="0.8"/>')
    for i, label in enumerate(labels):
        x = x_of(i)
        if rotated:
            parts.append(text(x, bottom + 14, label, 11, "end", f' transform="rotate(-45 {x:.1f} {bottom + 14})"'))
        else:
            parts.append(text(x, bottom + 16, label, 11))
    target = y_of(TARGET_RANK)
    parts.append(f'<line x1="{left}" x2="{right}" y1="{target:.1f}" y2="{target:.1f}" stroke="{TARGET_COLOUR}" '
                 f'stroke-dasharray="5 3"/>')
    for run in _disclosed_runs(ranks, lambda i, rank: (x_of(i), y_of(rank))):
        if len(run) > 1:
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            parts.append(f'<polyline points="{points}" fill="none" stroke="{FOCUS_COLOUR}" stroke-width="2"/>')
    for i, rank in enumerate(ranks):
        if rank is not None:
            x, y = x_of(i), y_of(rank)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{FOCUS_COLOUR}"/>')
            parts.append(text(x, y - 9, str(rank), 11))
            if labels[i] == edition:
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="8" fill="none" stroke="{TARGET_COLOUR}" '
                             f'stroke-width="1.5"/>')
    middle = (top + bottom) / 2
    parts.append(text(16, middle, "rank (1 = best)", 12, "middle", f' transform="rotate(-90 16 {middle:.1f})"'))
    parts.append(text((left + right) / 2, 20, _history_title(history, city=city, index_code=index_code,
                                                             city_count=city_count, edition=edition, lang="en"), 13))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Verdana, Arial, sans-serif" '
            f'fill="#000000">{"".join(parts)}</svg>')


def _disclosed_runs(ranks: Sequence[int | None], point) -> list[list[tuple]]:
    """The points `point(i, rank)` of each stretch of disclosed ranks: an undisclosed rank breaks the line."""
    runs, current = [], []
    for i, rank in enumerate(ranks):
        if rank is None:
            runs, current = runs + [current] if current else runs, []
        else:
            current.append(point(i, rank))
    return runs + [current] if current else runs


def rank_overview_png(latest: Sequence[tuple[str, int | None]], *, city: str, lang: str = "en") -> bytes:
    """The city's latest rank in each index as bars against the top-5 line (shorter = better).

    Every brief of a refresh shows the same overview (18 briefs: nine indices in two
    languages), so each distinct picture is drawn once per process and its bytes reused.
    """
    return _rank_overview_png(tuple((code, rank) for code, rank in latest), city, lang)


@lru_cache(maxsize=16)
def _rank_overview_png(latest: tuple[tuple[str, int | None], ...], city: str, lang: str) -> bytes:
    from matplotlib.figure import Figure

    shown = [(code, rank) for code, rank in latest if rank is not None]
    figure = Figure(figsize=(6.4, 0.45 * max(len(shown), 1) + 1.0))
    ax = figure.add_subplot()
    codes = [code for code, _ in shown]
    ranks = [rank for _, rank in shown]
    colours = [FOCUS_COLOUR if rank <= TARGET_RANK else "#8aa9cc" for rank in ranks]
    ax.barh(range(len(codes)), ranks, color=colours)
    for y, rank in enumerate(ranks):
        ax.annotate(str(rank), (rank, y), textcoords="offset points", xytext=(4, -3), fontsize=8)
    ax.axvline(TARGET_RANK, color=TARGET_COLOUR, linestyle="--", linewidth=1)
    ax.set_yticks(range(len(codes)), codes, fontsize=8)
    ax.invert_yaxis()
    if lang == "ko":
        ax.set_xlabel("최근 순위 (1 = 최고)")
        ax.set_title(f"{city}: 지수별 최근 순위 (점선: {TARGET_RANK}위)", fontsize=10)
    else:
        ax.set_xlabel("latest rank (1 = best)")
        ax.set_title(f"{city}: latest rank per index (dashed line: top {TARGET_RANK})", fontsize=10)
    _apply_families(figure, lang)
    figure.tight_layout()
    return _png(figure)


def rank_sparkline_svg(history: Sequence[tuple[str, int | None]], *, edition: str | None = None,
                       width: int = 240, height: int = 64) -> str:
    """A compact SVG of the rank per edition (rank 1 at the top, the top-5 line dashed, `edition` circled).

    Small on purpose: Dagster shows markdown metadata inline only under 1,000 characters, and
    this picture travels base64-encoded inside it.
    """
    ranks = [rank for _, rank in history]
    worst = max([r for r in ranks if r is not None] + [TARGET_RANK])
    pad = 6

    def xy(i: int, rank: int) -> tuple[int, int]:
        x = pad + (width - 2 * pad) * (i / max(len(history) - 1, 1))
        y = pad + (height - 2 * pad) * ((rank - 1) / max(worst - 1, 1))
        return round(x), round(y)

    runs = _disclosed_runs(ranks, xy)
    # A run of one edition is a dot (a one-point polyline draws nothing).
    lines = "".join(f'<polyline points="{" ".join(f"{x},{y}" for x, y in run)}"/>' if len(run) > 1 else
                    f'<circle cx="{run[0][0]}" cy="{run[0][1]}" r="2" fill="{FOCUS_COLOUR}"/>' for run in runs)
    _, target_y = xy(0, TARGET_RANK)
    mark = ""
    if edition is not None and edition in [label for label, _ in history]:
        i = [label for label, _ in history].index(edition)
        if ranks[i] is not None:
            x, y = xy(i, ranks[i])
            mark = f'<circle cx="{x}" cy="{y}" r="4" fill="none" stroke="{TARGET_COLOUR}" stroke-width="2"/>'
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
            f'<line x1="0" x2="{width}" y1="{target_y}" y2="{target_y}" stroke="{TARGET_COLOUR}" stroke-dasharray="4 3"/>'
            f'<g fill="none" stroke="{FOCUS_COLOUR}" stroke-width="2">{lines}</g>{mark}</svg>')


def markdown_svg(svg: str, alt: str) -> str:
    """A markdown image of an SVG as a data URI."""
    encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f"![{alt.replace(']', ')')}](data:image/svg+xml;base64,{encoded})"


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def markdown_image(png: bytes, alt: str) -> str:
    """A markdown image the Dagster UI renders inline (no file or URL to serve)."""
    return f"![{alt.replace(']', ')')}]({data_uri(png)})"
