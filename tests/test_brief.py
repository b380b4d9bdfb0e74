"""The HTML release brief: parsed back with BeautifulSoup and checked against Seoul's figures."""

import base64
import stat

import dagster as dg
import psycopg
from bs4 import BeautifulSoup

from cityrank_pipeline.brief import prepare_mart, write_brief
from cityrank_pipeline.cli import main
from cityrank_pipeline.orchestration.briefs import release_brief
from cityrank_pipeline.orchestration.resources import CityrankResource
from cityrank_pipeline.settings import load_settings

from test_views_fixture import load_real_figures, seoul_db, seoul_template  # noqa: F401


def cells(soup: BeautifulSoup, table_id: str, *fields: str) -> list[tuple[str, ...]]:
    table = soup.find(id=table_id)
    return [tuple(tr.find("td", attrs={"data-field": f}).get_text() for f in fields) for tr in table.tbody.find_all("tr")]


def test_brief_of_the_newest_release_reads_back_with_its_numbers(seoul_db, catalog, tmp_path):
    settings = load_settings({"CITYRANK_HOME": str(tmp_path / "home"), "CITYRANK_DATABASE_URL": seoul_db})
    with psycopg.connect(seoul_db) as conn:
        prepare_mart(conn, settings, catalog)
        result = write_brief(conn, settings, catalog)  # newest: GPCI 2025 (17 Dec 2025) after GFCI 38 (Sep 2025)
        again = write_brief(conn, settings, catalog, "gpci")
    assert (result.index_code, result.edition, result.written) == ("GPCI", "2025", True)
    assert again.path == result.path == settings.briefs_dir / "gpci-2025-seoul.html" and again.written is False
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o644
    soup = BeautifulSoup(result.path.read_text(encoding="utf-8"), "html.parser")

    assert soup.find(id="headline").get_text() == "GPCI 2025: Seoul 6th of 48 — no change since 2024"
    assert cells(soup, "result", "rank", "city_count", "previous_edition", "previous_rank", "rank_change") == [
        ("6", "48", "2024", "6", "0")]
    assert cells(soup, "top5-gap", "rank", "fifth_city", "gap_ranks", "pace_per_edition", "trend") == [
        ("6", "Singapore", "1", "0.5", "2 editions to close")]
    assert cells(soup, "released", "rank_text", "city", "change_text") == [
        ("1", "London", "="), ("2", "Tokyo", "▲1"), ("3", "New York", "▼1"), ("4", "Paris", "="),
        ("5", "Singapore", "="), ("6", "Seoul", "="), ("8", "Shanghai", "▲3")]
    assert [tr.find("td", attrs={"data-field": "city"}).get_text()
            for tr in soup.find(id="released").find_all("tr", class_="focus")] == ["Seoul"]
    assert cells(soup, "weak-here", "measure_name", "measure_rank", "overall_rank", "rank_gap", "department") == [
        ("Livability", "25", "6", "19", "Planning & Coordination Office"),
        ("Economy", "16", "6", "10", "Economic Policy Office"),
        ("Cultural Interaction", "12", "6", "6", "Tourism & Sports Bureau"),
        ("Accessibility", "11", "6", "5", "Urban Transportation Office"),
        ("Environment", "11", "6", "5", "Climate & Environment Headquarters")]
    departments = dict(cells(soup, "departments", "department", "weak_measure_count"))
    assert departments["Economic Policy Office"] == "4" and departments["Planning & Coordination Office"] == "1"
    assert cells(soup, "overview-table", "index_code", "rank", "trend") == [
        ("GFCI", "10", "10 editions to close"), ("GPCI", "6", "2 editions to close")]

    # Self-contained: charts inlined as PNG data URIs, no scripts, stylesheets or remote images.
    images = {img["id"]: img["src"] for img in soup.find_all("img")}
    assert set(images) == {"rank-history", "overview"}
    for src in images.values():
        assert base64.b64decode(src.split("data:image/png;base64,", 1)[1]).startswith(b"\x89PNG")
    assert not soup.find_all(["script", "link", "iframe"])
    assert soup.find(id="source").a["href"] == "https://www.english.metro.tokyo.lg.jp/w/000-101-006310"


def test_cli_and_asset_write_the_same_brief_once(cityrank_env, migrated_url, catalog, tmp_path, capsys):
    load_real_figures(cityrank_env.database_url, catalog, tmp_path / "raw", indices=("GFCI",),
                      editions={("GFCI", "GFCI 37"), ("GFCI", "GFCI 38")})
    assert main(["brief", "--index", "gfci"]) == 0
    out = capsys.readouterr()
    path = cityrank_env.briefs_dir / "gfci-gfci-38-seoul.html"
    assert out.out.strip() == str(path)
    assert "GFCI 38: Seoul 10th of 120 — no change since GFCI 37 (written)" in out.err
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    assert cells(soup, "released", "rank_text", "city")[-1] == ("10", "Seoul")

    context = dg.build_asset_context(resources={"cityrank": CityrankResource()})
    result = release_brief(context)
    # The English brief is identical to the CLI's; the asset also writes the Korean one.
    assert result.metadata["written"] == 1 and result.metadata["unchanged"] == 1
    assert (cityrank_env.briefs_dir / "gfci-gfci-38-seoul-ko.html").exists()
    assert main(["brief", "--index", "gfci", "--lang", "ko"]) == 0
    assert "GFCI 38: 서울 120개 도시 중 10위 — GFCI 37 대비 변동 없음 (unchanged)" in capsys.readouterr().err
    assert result.metadata["newest_release"] == "GFCI 38: Seoul 10th of 120 — no change since GFCI 37"
    assert main(["brief", "--index", "gdci"]) == 1
    assert "no GDCI edition is loaded" in capsys.readouterr().err
