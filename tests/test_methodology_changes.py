"""Methodology changes between two editions: added, removed and reworded indicators.

Two synthetic GPCI editions are made from the real 2023 cut: "2022" printed housing rent as
"Average Rent" and did not report workstyle flexibility; "2023" no longer reports the number
of startups. The Python rule (load-time metadata and WARN check) and the SQL view must both
say exactly that.
"""

from __future__ import annotations

import psycopg

from cityrank_pipeline.brief import _path_and_methodology
from cityrank_pipeline.editions import parse_publication, rows_to_frame
from cityrank_pipeline.harmonise import harmonise_cities
from cityrank_pipeline.loading import EditionMeta, load_edition
from cityrank_pipeline.methodology import MeasureChange, diff_measures, methodology_changes
from cityrank_pipeline.snapshots import RawStore

from indicator_fixture import CUT_2023

EXPECTED = [
    MeasureChange("added", "workstyle_flexibility", "Workstyle Flexibility", None),
    MeasureChange("removed", "number_of_startups", None, "Number of Startups"),
    MeasureChange("reworded", "housing_rent", "Housing Rent", "Average Rent"),
]


def _edition(catalog, label: str):
    entry = catalog["GPCI"]
    rows = parse_publication(entry, "gpci_data_json", CUT_2023.read_bytes(), CUT_2023.name, edition=label)
    frame, _ = harmonise_cities(rows_to_frame(rows), catalog, entry)
    if label == "2022":
        frame = frame[frame["measure"] != "workstyle_flexibility"].copy()
        frame.loc[frame["measure"] == "housing_rent", "measure_printed"] = "Average Rent"
    else:
        frame = frame[frame["measure"] != "number_of_startups"]
    return frame


def test_diff_of_two_measure_sets():
    assert diff_measures({"a": "A", "b": "B", "c": "C"}, {"b": "B2", "c": "C", "d": "D"}) == [
        MeasureChange("added", "d", "D", None), MeasureChange("removed", "a", None, "A"),
        MeasureChange("reworded", "b", "B2", "B")]
    assert diff_measures({"a": "A"}, {"a": "A"}) == []


def test_changes_reported_at_load_time_and_in_the_view(migrated_url, catalog, tmp_path):
    entry = catalog["GPCI"]
    snapshot, _ = RawStore(tmp_path).put(CUT_2023.read_bytes(), original_name=CUT_2023.name,
                                        media_type="application/json", licence_note="test")
    old, new = _edition(catalog, "2022"), _edition(catalog, "2023")
    with psycopg.connect(migrated_url) as conn:
        assert methodology_changes(conn, entry, "2022", old) == (None, [])  # nothing earlier to compare
        load_edition(conn, catalog, entry, old, snapshot, EditionMeta("2022", 2022, None, "unknown", None))
        assert methodology_changes(conn, entry, "2023", new) == ("2022", EXPECTED)
        load_edition(conn, catalog, entry, new, snapshot, EditionMeta("2023", 2023, None, "unknown", None))
        brief = "".join(_path_and_methodology(conn, "GPCI", "Seoul"))
        view = conn.execute("""SELECT index_code, edition, previous_edition, change, measure_code, printed_name,
                                      previous_printed_name FROM mart.methodology_changes
                               ORDER BY change, measure_code""").fetchall()
    assert view == [("GPCI", "2023", "2022", c.change, c.measure_code, c.printed_name, c.previous_printed_name)
                    for c in EXPECTED]
    assert [c.describe() for c in EXPECTED] == [
        "added 'Workstyle Flexibility' (workstyle_flexibility)",
        "removed 'Number of Startups' (number_of_startups)",
        "reworded 'Average Rent' → 'Housing Rent' (housing_rent)"]
    assert ("GPCI 2023 measures differently from 2022: added Workstyle Flexibility; removed Number of Startups; "
            "reworded Housing Rent (was Average Rent).") in brief
