"""Finding the current edition's link on landing pages shaped like the publishers' own.

The fixtures under tests/fixtures/landing/ are invented pages with the shapes that matter:
relative and protocol-relative links, percent-encoded names, a <base href>, duplicate
thumbnail links, editions listed out of order, and years only in the link text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cityrank_pipeline.discovery import (
    DiscoveryError,
    DocumentLink,
    edition_key,
    find_current_document,
    find_document_links,
)

LANDING = Path(__file__).parent / "fixtures" / "landing"
GPCI_PAGE = "https://www.mori-m-foundation.or.jp/english/ius2/gpci2/index.shtml"
GFCI_PAGE = "https://www.longfinance.net/programmes/financial-centre-futures/global-financial-centres-index/"
GSER_PAGE = "https://startupgenome.com/report/gser2024"

# The patterns the catalog uses for these sources (assets/*.yaml), as strings here so the
# tests pin this module's behaviour rather than the catalog's current contents.
GPCI_HREF = r"GPCI(?P<edition>20\d\d)(?:_en|_summary)?\.pdf$"
GFCI_HREF = r"GFCI[_ ]?(?P<edition>\d{2})[^/]*\.pdf$"


def landing(name: str) -> bytes:
    return (LANDING / name).read_bytes()


def test_gpci_newest_edition_first_with_absolute_urls():
    links = find_document_links(landing("mori_gpci.html"), GPCI_PAGE, href_pattern=GPCI_HREF)
    assert [link.edition for link in links] == ["2023", "2022", "2021", "2020", "2019"]
    assert links[0] == DocumentLink(
        url="https://www.mori-m-foundation.or.jp/pdf/GPCI2023_summary.pdf",
        text="GPCI 2023 Summary [PDF 4.2MB]",
        edition="2023",
    )
    assert links[-1].url == "https://www.mori-m-foundation.or.jp/pdf/GPCI2019_en.pdf"


def test_gpci_skips_other_languages_fragments_and_mailto():
    urls = [link.url for link in find_document_links(landing("mori_gpci.html"), GPCI_PAGE, href_pattern=GPCI_HREF)]
    assert not any(url.endswith("_jp.pdf") or url.startswith("mailto:") for url in urls)
    assert "https://www.mori-m-foundation.or.jp/pdf/GPCI2021_summary.pdf" in urls  # #page=1 dropped
    assert len(urls) == len(set(urls))  # thumbnail and title link are one document


def test_gpci_with_separate_edition_pattern():
    current = find_current_document(
        landing("mori_gpci.html"), GPCI_PAGE, href_pattern=r"GPCI20\d\d_summary\.pdf$",
        edition_pattern=r"GPCI(?P<edition>20\d\d)",
    )
    assert (current.edition, current.url) == ("2023", "https://www.mori-m-foundation.or.jp/pdf/GPCI2023_summary.pdf")


def test_gfci_orders_editions_numerically():
    links = find_document_links(landing("zyen_gfci.html"), GFCI_PAGE, href_pattern=r"GFCI[_ ]?(?P<edition>\d+)")
    assert [link.edition for link in links] == ["34", "33", "32", "10", "9"]


def test_gfci_catalog_pattern_reads_percent_encoded_and_protocol_relative_links():
    links = find_document_links(landing("zyen_gfci.html"), GFCI_PAGE, href_pattern=GFCI_HREF)
    assert [link.edition for link in links] == ["34", "33", "32", "10"]
    assert links[0].url == "https://www.longfinance.net/media/documents/GFCI_34_Report_2023.09.28_v1.0.pdf"
    assert links[1].url == "https://www.longfinance.net/media/documents/GFCI%2033%20Report%202023.03.23.pdf"


def test_startup_genome_edition_from_link_text_and_base_href():
    links = find_document_links(
        landing("startup_genome.html"), GSER_PAGE,
        href_pattern=r"/api/downloads/report\?", text_pattern=r"(?i)download\s+GSER",
        edition_pattern=r"GSER\s*(?P<edition>20\d\d)",
    )
    assert [(link.edition, link.text) for link in links] == [
        ("2024", "Download GSER 2024"), ("2023", "Download GSER 2023"), ("2022", "Download GSER 2022"),
    ]
    assert links[0].url == "https://startupgenome.com/api/downloads/report?id=4c1e9f&format=pdf"


def test_links_without_edition_come_last_in_page_order():
    html = """<a href="a.pdf">Methodology</a><a href="r2022.pdf">2022</a>
              <a href="b.pdf">Annex</a><a href="r2024.pdf">2024</a>"""
    links = find_document_links(html, "https://x.org/dir/", href_pattern=r"\.pdf$",
                                edition_pattern=r"(?P<edition>20\d\d)")
    assert [link.url.rsplit("/", 1)[1] for link in links] == ["r2024.pdf", "r2022.pdf", "a.pdf", "b.pdf"]


def test_icon_only_link_uses_title_or_alt():
    html = '<a href="/r2024.pdf" title="Full report 2024"><img src="i.png"></a><a href="/r2023.pdf"><img alt="Report 2023"></a>'
    links = find_document_links(html, "https://x.org/", href_pattern=r"/r(?P<edition>\d{4})\.pdf")
    assert [link.text for link in links] == ["Full report 2024", "Report 2023"]


def test_patterns_are_case_sensitive_unless_they_say_otherwise():
    html = '<a href="/gpci2024_summary.pdf">Summary</a>'
    with pytest.raises(DiscoveryError):
        find_document_links(html, "https://x.org/", href_pattern=GPCI_HREF)
    assert find_document_links(html, "https://x.org/", href_pattern="(?i)" + GPCI_HREF)[0].edition == "2024"


def test_no_match_is_loud_and_names_the_page():
    with pytest.raises(DiscoveryError) as caught:
        find_document_links(landing("mori_gpci.html"), GPCI_PAGE, href_pattern=r"GPCI_Report_(?P<edition>\d+)\.pdf")
    message = str(caught.value)
    assert caught.value.page_url == GPCI_PAGE
    assert GPCI_PAGE in message and "GPCI_Report_" in message and "links on the page" in message


def test_text_pattern_miss_says_how_many_hrefs_matched():
    with pytest.raises(DiscoveryError, match=r"\(5 matched the href alone\)"):
        find_document_links(landing("mori_gpci.html"), GPCI_PAGE, href_pattern=GPCI_HREF, text_pattern="Full report")


def test_empty_page_is_a_discovery_error():
    with pytest.raises(DiscoveryError, match="0 links"):
        find_document_links(b"", GFCI_PAGE, href_pattern=GFCI_HREF)


def test_edition_pattern_without_edition_group_is_rejected():
    with pytest.raises(ValueError, match="edition"):
        find_document_links("<a href='/x.pdf'>x</a>", "https://x.org/", href_pattern="pdf", edition_pattern=r"\d+")


def test_bytes_in_a_declared_encoding_are_decoded():
    html = '<meta charset="iso-8859-1"><a href="/Qualité2024.pdf">Qualité de vie 2024</a>'.encode("iso-8859-1")
    link = find_current_document(html, "https://x.org/", href_pattern=r"\.pdf$", text_pattern=r"Qualité")
    assert link.text == "Qualité de vie 2024"


def test_edition_key_is_numeric_aware():
    editions = ["9", "2023", "34", "2023-24", "GFCI 10", "GFCI 9"]
    assert sorted(editions, key=edition_key) == ["9", "34", "2023", "2023-24", "GFCI 9", "GFCI 10"]
