"""The release brief of an additive index carries the path to the top 5, by department."""

from __future__ import annotations

import psycopg
from bs4 import BeautifulSoup

from cityrank_pipeline.brief import render_brief
from cityrank_pipeline.focus import focus_config
from cityrank_pipeline.path_plan import fetch_plans
from cityrank_pipeline.settings import load_settings

from indicator_fixture import gpci2023_db  # noqa: F401


def test_gpci_brief_shows_the_plan_by_department(gpci2023_db, catalog):
    config = focus_config(load_settings({"CITYRANK_DATABASE_URL": gpci2023_db}), catalog)
    with psycopg.connect(gpci2023_db) as conn:
        text, _ = render_brief(conn, catalog, config, "GPCI", "2023")
        [plan] = fetch_plans(conn, index_code="GPCI")
    page = BeautifulSoup(text, "html.parser")
    intro = page.find(id="path").get_text()
    assert "Seoul is 7th with 1,202.07; Singapore is 5th with 1,264.70" in intro
    rows = page.find(id="path-to-top5").find("tbody").find_all("tr")
    got = [(r.find(attrs={"data-field": "department"}).get_text(), r.find(attrs={"data-field": "gain"}).get_text())
           for r in rows]
    assert got == [(dept, f"{s.gain:,.2f}") for dept, steps in plan.by_department().items() for s in steps]
    assert page.find(id="methodology") is None  # one edition with indicators: nothing to compare with
