"""The curated-figures CSV: real rows, honest gaps, and clear errors for broken files."""

import pytest

from cityrank_pipeline.editions import curated_bytes
from cityrank_pipeline.sources.base import LayoutError
from cityrank_pipeline.sources.curated import curated_editions, parse_curated_figures

HEADER = "index_code,edition,published,city,country,measure,rank,score,confidence,source_url,notes\n"


def test_packaged_figures_parse_for_every_index():
    data = curated_bytes()
    total = 0
    for code in ("GCI", "GCO", "GPCI", "QOL", "EIU", "GSER", "GFCI", "CIMI", "GDCI"):
        rows = parse_curated_figures(data, "published_figures.csv", options={"index_code": code})
        assert rows, code
        total += len(rows)
    assert total == data.decode().count("\n") - 1


def test_undisclosed_rank_disputed_figure_and_ties_are_kept_honestly():
    data = curated_bytes()
    eiu = parse_curated_figures(data, "f.csv", edition="2023", options={"index_code": "EIU"})
    seoul = [r for r in eiu if r.city == "Seoul"][0]
    assert seoul.rank is None and seoul.score is None and "4th among Asian cities" in seoul.note
    gfci26 = parse_curated_figures(data, "f.csv", edition="GFCI 26", options={"index_code": "GFCI"})[0]
    assert (gfci26.rank, gfci26.score, gfci26.confidence) == (36, 677.0, "disputed")
    assert "says Seoul 39" in gfci26.note
    gser = parse_curated_figures(data, "f.csv", edition="2025", options={"index_code": "GSER"})
    fifth = sorted(r.city for r in gser if r.rank == 5)
    assert fifth == ["Beijing", "Boston"] and all(r.rank_tied for r in gser if r.rank == 5)
    assert not [r for r in gser if r.city == "Seoul"][0].rank_tied


def test_sub_index_rows_come_with_their_source():
    rows = parse_curated_figures(curated_bytes(), "f.csv", edition="2025", options={"index_code": "GPCI"})
    seoul = {r.measure: r.rank for r in rows if r.city == "Seoul"}
    assert seoul == {"total": 6, "economy": 16, "r_and_d": 5, "cultural_interaction": 12, "livability": 25,
                     "environment": 11, "accessibility": 11}


def test_editions_listed_in_file_order():
    assert curated_editions(curated_bytes(), "f.csv", "GFCI")[:2] == ["GFCI 24", "GFCI 25"]


@pytest.mark.parametrize("body, message", [
    (b"", "empty"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b"a,b,c\n1,2,3\n", "missing column"),
    ((HEADER + "GFCI,GFCI 38,2025-09,Seoul,South Korea,total,ten,,reported,,\n").encode(), "row 2: rank 'ten'"),
    ((HEADER + "GFCI,GFCI 38,2025-09,Seoul,South Korea,total,10,,sure,,\n").encode(), "row 2: confidence"),
    ((HEADER + "GFCI,GFCI 38,Sept 2025,Seoul,South Korea,total,10,,reported,,\n").encode(), "row 2: published"),
    ((HEADER + "GFCI,GFCI 38,2025-09,Seoul,South Korea,total,10,,reported,,note,extra\n").encode(), "row 2: more fields"),
])
def test_broken_files_name_the_file_and_row(body, message):
    with pytest.raises(LayoutError) as err:
        parse_curated_figures(body, "drop.csv", options={"index_code": "GFCI"})
    assert str(err.value).startswith("drop.csv") and message in str(err.value)
