"""Rank charts as PNG bytes: pure functions of the figures, no database, no global state.

Ranks read best at the top, so the y-axis is inverted with 1 at the top and the top-5 target
drawn as a line. Figures are built on matplotlib's object API with the Agg canvas (not
pyplot), so concurrent Dagster steps and the CLI never share a current figure, and PNG
metadata is stripped so the same figures give the same bytes (briefs are only rewritten when
their content changes).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

TARGET_RANK = 5
FOCUS_COLOUR = "#1f5fa8"
TARGET_COLOUR = "#c0392b"


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def _rank_ticks(worst: int) -> list[int]:
    """1 always (the top is the point), then round steps down to the worst rank shown."""
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 1000) if worst / s <= 10)
    return sorted({1, *range(step, worst + 1, step)})


def rank_history_png(history: Sequence[tuple[str, int | None]], *, city: str, index_code: str,
                     city_count: int | None = None) -> bytes:
    """The city's rank per edition (oldest first) as PNG bytes; undisclosed ranks are gaps."""
    return _png(rank_history_figure(history, city=city, index_code=index_code, city_count=city_count))


def rank_history_figure(history: Sequence[tuple[str, int | None]], *, city: str, index_code: str,
                        city_count: int | None = None) -> Figure:
    """The figure behind rank_history_png (separate so its axes can be inspected)."""
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
    ax.set_ylabel("rank (1 = best)")
    of = f" of {city_count}" if city_count else ""
    latest = next((f"{r}{of} in {label}" for label, r in reversed(history) if r is not None), "no disclosed rank")
    ax.set_title(f"{city} in {index_code}: {latest} (dashed line: top {TARGET_RANK})", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    return figure


def rank_overview_png(latest: Sequence[tuple[str, int | None]], *, city: str) -> bytes:
    """The city's latest rank in each index as bars against the top-5 line (shorter = better)."""
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
    ax.set_xlabel("latest rank (1 = best)")
    ax.set_title(f"{city}: latest rank per index (dashed line: top {TARGET_RANK})", fontsize=10)
    figure.tight_layout()
    return _png(figure)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def markdown_image(png: bytes, alt: str) -> str:
    """A markdown image the Dagster UI renders inline (no file or URL to serve)."""
    return f"![{alt.replace(']', ')')}]({data_uri(png)})"
