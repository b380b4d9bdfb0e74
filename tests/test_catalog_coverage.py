"""Which real documents each parser has met: the catalog's `verified_against`, what
`cityrank catalog` and the parsed_scores metadata say about it, and that the recorded files
are the ones in the shared folder."""

from __future__ import annotations

import hashlib
import re

import pytest

from cityrank_pipeline.catalog import CatalogError, describe_verification, load_catalog, load_index_file
from conftest import REPO, SHARED

REAL_GFCI = "GFCI_32_Report_2022.09.22_v1.0_.pdf"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(REPO / "assets")


def test_only_parsers_checked_on_real_files_claim_them(catalog):
    claimed = {(entry.code, parser): [f.file for f in files]
               for entry in catalog for parser, files in entry.parser_coverage().items() if files}
    assert claimed == {
        ("GFCI", "gfci_report_pdf"): [REAL_GFCI],
        ("GPCI", "gpci_summary_pdf"): ["GPCI2013_en.pdf", "GPCI2015_en.pdf"],
        ("GPCI", "gpci_data_json"): ["gpci2023_en.json", "gpci2023_f.json"],
    }
    assert catalog["CIMI"].parser_coverage() == {"curated_figures": [], "cimi_report_pdf": []}


@pytest.mark.parametrize("folder, parser, code", [("gfci", "gfci_report_pdf", "GFCI"), ("gpci", "gpci_summary_pdf", "GPCI"),
                                                  ("gpci", "gpci_data_json", "GPCI")])
def test_recorded_checksums_are_those_of_the_shared_files(catalog, folder, parser, code):
    for recorded in catalog[code].parser_coverage()[parser]:
        path = SHARED / "publications" / folder / recorded.file
        if not path.is_file():
            pytest.skip(f"{path} is absent: set CITYRANK_SHARED_DIR to the shared folder")
        assert hashlib.sha256(path.read_bytes()).hexdigest() == recorded.sha256


def test_a_malformed_checksum_is_a_catalog_error(tmp_path):
    text = (REPO / "assets" / "gfci.yaml").read_text(encoding="utf-8").replace("sha256: 98ef7f6f", "sha256: zz")
    (tmp_path / "gfci.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError, match="verified_against.0.sha256"):
        load_index_file(tmp_path / "gfci.yaml")


def test_description_says_none_yet_or_names_the_files(catalog):
    assert describe_verification([]) == "none yet: fixture-only"
    assert describe_verification([], "curated_figures").startswith("not a publisher document")
    assert describe_verification(catalog["GFCI"].parser_coverage()["gfci_report_pdf"]) == \
        f"verified against: {REAL_GFCI} (GFCI 32, sha256 98ef7f6fb8a1)"


def test_cityrank_catalog_lists_each_parser_and_its_real_documents(tmp_path, monkeypatch, capsys):
    from cityrank_pipeline.cli import main

    monkeypatch.setenv("CITYRANK_HOME", str(tmp_path))
    assert main(["catalog"]) == 0
    out = capsys.readouterr().out
    lines = out.split("parsers and the real documents they have met:\n", 1)[1]
    assert re.search(rf"^GFCI +gfci_report_pdf +verified against: {re.escape(REAL_GFCI)} \(GFCI 32", lines, re.M)
    assert re.search(r"^GPCI +gpci_summary_pdf +verified against: GPCI2013_en\.pdf \(2013.*GPCI2015_en\.pdf", lines, re.M)
    assert re.search(r"^CIMI +cimi_report_pdf +none yet: fixture-only$", lines, re.M)
    assert re.search(r"^GPCI +gpci_data_json +verified against: gpci2023_en\.json \(2023.*gpci2023_f\.json", lines, re.M)
    assert re.search(r"^CIMI +curated_figures +not a publisher document", lines, re.M)


def test_gfci_link_patterns_match_the_real_report_name(catalog):
    [web] = [s for s in catalog["GFCI"].sources if s.kind == "web"]
    found = re.search(web.href_pattern, f"https://www.longfinance.net/media/documents/{REAL_GFCI}")
    assert found and found["edition"] == "32"
    assert re.search(web.edition_pattern, REAL_GFCI)["edition"] == "32"
