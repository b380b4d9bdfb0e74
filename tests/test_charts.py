"""Rank charts: PNG bytes (briefs) and SVG (each loaded edition's metadata) with rank 1 at the
top, deterministic; attached to the loaded asset."""

import base64
import math
import re
import struct
import xml.etree.ElementTree as ET

import dagster as dg

from cityrank_pipeline.charts import markdown_image, rank_history_figure, rank_history_png, rank_history_svg, \
    rank_overview_png

from test_views_fixture import load_through_asset

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Seoul's GFCI ranks GFCI 33-38 as published; GFCI 36 set to None to stand for an undisclosed rank.
GFCI = [("GFCI 33", 10), ("GFCI 34", 11), ("GFCI 35", 10), ("GFCI 36", None), ("GFCI 37", 10), ("GFCI 38", 10)]


def _size(png: bytes) -> tuple[int, int]:
    return struct.unpack(">II", png[16:24])  # IHDR width, height


def test_rank_history_is_a_png_with_rank_one_at_the_top():
    png = rank_history_png(GFCI, city="Seoul", index_code="GFCI", city_count=120)
    assert png.startswith(PNG_MAGIC) and _size(png) == (640, 320)
    assert rank_history_png(GFCI, city="Seoul", index_code="GFCI", city_count=120) == png  # same figures, same bytes
    ax = rank_history_figure(GFCI, city="Seoul", index_code="GFCI", city_count=120).axes[0]
    assert ax.yaxis_inverted()
    bottom, top = ax.get_ylim()
    assert top < 1 < 5 < 11 < bottom and 1 in ax.get_yticks()
    ys = list(ax.lines[0].get_ydata())
    assert ys[:3] == [10, 11, 10] and math.isnan(ys[3]) and ys[4:] == [10, 10]
    assert [t.get_text() for t in ax.get_xticklabels()] == [label for label, _ in GFCI]
    assert ax.get_title() == "Seoul in GFCI: 10 of 120 in GFCI 38 (dashed line: top 5)"
    assert [line.get_ydata()[0] for line in ax.lines[1:]] == [5]  # the top-5 target line


SVG = "{http://www.w3.org/2000/svg}"


def test_rank_history_svg_draws_what_the_png_draws():
    svg = rank_history_svg(GFCI, city="Seoul & Co", index_code="GFCI", city_count=120, edition="GFCI 37")
    assert svg == rank_history_svg(GFCI, city="Seoul & Co", index_code="GFCI", city_count=120, edition="GFCI 37")
    root = ET.fromstring(svg)  # well-formed, the city's "&" escaped
    assert (root.get("width"), root.get("height")) == ("640", "320")
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Seoul & Co in GFCI: 10 of 120 in GFCI 37 (dashed line: top 5)" in texts
    assert [label for label, _ in GFCI] == [t for t in texts if t.startswith("GFCI ")][:len(GFCI)]
    assert "rank (1 = best)" in texts and "1" in texts  # rank 1 is always a tick
    # Rank 1 at the top: a point's y grows with its rank; the undisclosed GFCI 36 breaks the line.
    lines = [[tuple(map(float, p.split(","))) for p in line.get("points").split()] for line in root.iter(f"{SVG}polyline")]
    assert [len(line) for line in lines] == [3, 2]
    (x33, y10), (x34, y11), _ = lines[0]
    assert x33 < x34 and y10 < y11
    dashed = [line for line in root.iter(f"{SVG}line") if line.get("stroke-dasharray")]
    assert len(dashed) == 1 and float(dashed[0].get("y1")) < y10  # the top-5 line, above rank 10
    tick = {t.text: float(t.get("y")) for t in root.iter(f"{SVG}text") if re.fullmatch(r"\d+", t.text or "")
            and t.get("text-anchor") == "end"}
    assert sorted(tick, key=int) == ["1", "2", "4", "6", "8", "10"]  # 1, then steps of 2 to the worst rank
    assert tick["1"] < tick["4"] < float(dashed[0].get("y1")) < tick["6"] < tick["10"]  # rank 5 between 4 and 6
    circled = [c for c in root.iter(f"{SVG}circle") if c.get("fill") == "none"]
    assert len(circled) == 1 and (float(circled[0].get("cx")), float(circled[0].get("cy"))) == lines[1][0]  # GFCI 37


def test_markdown_image_and_overview():
    png = rank_overview_png([("GPCI", 6), ("GFCI", 10), ("EIU", None), ("GCO", 2)], city="Seoul")
    assert png.startswith(PNG_MAGIC)
    md = markdown_image(png, "Seoul [latest]")
    assert md.startswith("![Seoul [latest)](data:image/png;base64,") and md.endswith(")")
    assert base64.b64decode(md.split(",", 1)[1][:-1]) == png


def test_the_loaded_asset_carries_the_rank_chart_and_scorecard(cityrank_env, catalog):
    loaded = load_through_asset(catalog, cityrank_env, "GFCI", "GFCI 38")
    chart = loaded.metadata["rank_history"]
    assert isinstance(chart, dg.MarkdownMetadataValue)
    svg = base64.b64decode(chart.value.split("data:image/svg+xml;base64,", 1)[1].rstrip(")")).decode()
    assert "Seoul in GFCI: 10 of 120 in GFCI 38 (dashed line: top 5)" in svg
    table = loaded.metadata["scorecard"].value.splitlines()
    # GFCI 38 as published: top 5, Seoul (10th, bold) and its peers Shanghai (8th); first edition loaded here.
    assert table[2:4] == ["| rank | city | score | change |", "|---:|---|---:|---:|"]
    assert table[4:] == ["| 1 | New York |  | new |", "| 2 | London |  | new |", "| 3 | Hong Kong | 764 | new |",
                         "| 4 | Singapore | 763 | new |", "| 5 | San Francisco |  | new |", "| 8 | Shanghai |  | new |",
                         "| 10 | **Seoul** |  | new |"]
    assert loaded.metadata["headline"].value == "GFCI 38: Seoul 10th of 120 — first edition on record"
