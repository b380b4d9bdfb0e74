"""The Korean release brief: names from the catalog, Korean sentences and dates, an embedded font
that draws every character of the page, and a headless-Chromium render without missing glyphs."""

import base64
import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
from bs4 import BeautifulSoup
from fontTools.ttLib import TTFont

from cityrank_pipeline.brief import prepare_mart, write_brief
from cityrank_pipeline.brief_text import WORDS, age_mark, date_text, headline_text
from cityrank_pipeline.fonts import FONT_FAMILY, missing_characters
from cityrank_pipeline.notify import Headline
from cityrank_pipeline.settings import load_settings

from test_brief import cells
from test_views_fixture import seoul_db, seoul_template  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _years_since(day: dt.date) -> int:
    today = dt.date.today()
    return today.year - day.year - ((today.month, today.day) < (day.month, day.day))


@pytest.fixture
def korean_brief(seoul_db, catalog, tmp_path):
    settings = load_settings({"CITYRANK_HOME": str(tmp_path / "home"), "CITYRANK_DATABASE_URL": seoul_db})
    with psycopg.connect(seoul_db) as conn:
        prepare_mart(conn, settings, catalog)
        result = write_brief(conn, settings, catalog, "gpci", lang="ko")
        english = write_brief(conn, settings, catalog, "gpci")
    return result, english


def embedded_font(soup: BeautifulSoup) -> TTFont:
    css = soup.style.get_text()
    match = re.search(r"@font-face\{font-family:'(\w+)'.*?url\(data:font/otf;base64,([A-Za-z0-9+/=]+)\)", css)
    assert match and match.group(1) == FONT_FAMILY
    return TTFont(io.BytesIO(base64.b64decode(match.group(2))))


def test_korean_brief_names_dates_and_sentences(korean_brief, catalog):
    result, english = korean_brief
    assert result.path.name == "gpci-2025-seoul-ko.html" and english.path.name == "gpci-2025-seoul.html"
    soup = BeautifulSoup(result.path.read_text(encoding="utf-8"), "html.parser")
    assert soup.html["lang"] == "ko"
    assert soup.h1.get_text() == "세계 도시 종합경쟁력 지수 (GPCI) 2025: 서울 발표 브리핑"
    assert "발표일 2025년 12월 17일" in soup.find(class_="sub").get_text()
    assert soup.find(id="headline").get_text() == "GPCI 2025: 서울 48개 도시 중 6위 — 2024 대비 변동 없음"
    assert [h.get_text() for h in soup.find_all("h2")][:3] == ["5위권까지의 거리", "발표 내용: GPCI 2025", "비교 도시 대비 서울"]
    assert cells(soup, "released", "rank_text", "city") == [
        ("1", "런던"), ("2", "도쿄"), ("3", "뉴욕"), ("4", "파리"), ("5", "싱가포르"), ("6", "서울"), ("8", "상하이")]
    # Measures and departments in Korean, from the catalog and assets/departments.yaml.
    assert cells(soup, "weak-here", "measure_name", "department", "influence") == [
        ("거주", "기획조정실", "예"), ("경제", "경제정책실", "예"), ("문화·교류", "관광체육국", "예"),
        ("교통·접근성", "도시교통실", "예"), ("환경", "기후환경본부", "예")]
    departments = dict(cells(soup, "departments", "department", "weak_measure_count"))
    assert departments["경제정책실"] == "4" and departments["기획조정실"] == "1"
    which = dict(cells(soup, "departments", "department", "weak_measures"))
    assert which["기획조정실"] == "GPCI 거주 25위 (종합 6위, 2025)"
    # The same numbers as the English brief, cell for cell.
    english_soup = BeautifulSoup(english.path.read_text(encoding="utf-8"), "html.parser")
    for table, fields in (("result", ("rank", "city_count", "previous_rank")), ("top5-gap", ("gap_ranks", "gap_points")),
                          ("weak-all", ("priority", "measure_rank", "rank_gap"))):
        assert cells(soup, table, *fields) == cells(english_soup, table, *fields)
    # No English heading is left in the Korean page.
    english_words = {v for k, v in WORDS["en"].items() if k.startswith("c_") and "{" not in v}
    assert not english_words & {th.get_text() for th in soup.find_all("th")}
    assert result.headline_text == soup.find(id="headline").get_text()


def test_stale_figures_are_marked_with_their_age(korean_brief, catalog):
    result, english = korean_brief
    years = _years_since(catalog["GFCI"].editions["GFCI 35"].published_on)
    ko = cells(BeautifulSoup(result.path.read_text(encoding="utf-8"), "html.parser"), "weak-all", "index_code", "edition")
    en = cells(BeautifulSoup(english.path.read_text(encoding="utf-8"), "html.parser"), "weak-all", "index_code", "edition")
    assert ("GPCI", "2025") in en and ("GPCI", "2025") in ko  # this year's figures carry no mark
    assert ("GFCI", f"GFCI 35{age_mark(years, 'en')}") in en and ("GFCI", f"GFCI 35{age_mark(years, 'ko')}") in ko
    assert age_mark(6, "en") == " (6 years old)" and age_mark(6, "ko") == " (6년 전 자료)" and age_mark(1, "en") == ""


def test_korean_headline_and_date_forms():
    h = Headline("GFCI", "Global Financial Centres Index", "GFCI 38", dt.date(2025, 9, 25), "Seoul", True, 10, False,
                 None, 120, "GFCI 37", 11, 1, None)
    assert headline_text(h, "ko", "서울") == "GFCI 38: 서울 120개 도시 중 10위 — GFCI 37(11위) 대비 1계단 상승"
    assert headline_text(h, "en", "Seoul") == h.text
    assert date_text(dt.date(2025, 12, 17), "ko") == "2025년 12월 17일"
    assert date_text(dt.date(2025, 12, 17), "en") == "2025-12-17"


def test_the_embedded_font_draws_every_character_of_the_page(korean_brief):
    result, english = korean_brief
    for path in (result.path, english.path):  # the English page prints the index's Korean name too
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        font = embedded_font(soup)
        assert font["name"].getDebugName(1) == FONT_FAMILY
        cmap = font.getBestCmap()
        text = soup.title.get_text() + soup.body.get_text() + "".join(img["alt"] for img in soup.find_all("img"))
        assert HANGUL.search(text)
        assert sorted({ch for ch in text if not ch.isspace() and ord(ch) not in cmap}) == []
        assert soup.style.get_text().index("@font-face") < soup.style.get_text().index(f'font-family:"{FONT_FAMILY}"')


def test_the_committed_font_covers_every_korean_name_in_the_catalog(catalog):
    names = [e.name_ko for e in catalog] + [m.name_ko for e in catalog for m in e.measures]
    names += [c.name_ko for c in catalog.cities.cities] + list(catalog.departments_ko.values())
    names += [v for lang in WORDS.values() for v in lang.values()]
    # When this fails, rebuild the font: python -m cityrank_pipeline.fonts build .../NotoSansCJK-Regular.ttc
    assert missing_characters("".join(names)) == set()


def _render(chromium: Path, page: Path, png: Path, tmp_path: Path) -> bytes:
    profile = tmp_path / f"profile-{png.stem}"
    subprocess.run([str(chromium), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                    f"--user-data-dir={profile}", "--window-size=1000,700", "--virtual-time-budget=5000",
                    f"--screenshot={png}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    return png.read_bytes()


def _korean_font_installed() -> bool:
    if shutil.which("fc-list") is None:
        return False
    return bool(subprocess.run(["fc-list", ":lang=ko"], capture_output=True, text=True).stdout.strip())


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless rendering needs Debian's chromium at /usr/bin/chromium")
def test_chromium_renders_the_korean_brief_with_its_own_font(korean_brief, tmp_path):
    from PIL import Image, ImageChops

    result, _ = korean_brief
    page = result.path.read_text(encoding="utf-8")
    # Only the top of the page: the heading, the subtitle and the headline (all Korean text, no charts).
    top = page.split('<table id="result"', 1)[0] + "</body></html>"
    with_font = tmp_path / "with_font.html"
    with_font.write_text(top, encoding="utf-8")
    without_font = tmp_path / "without_font.html"
    without_font.write_text(re.sub(r"@font-face\{[^}]*\}", "", top), encoding="utf-8")
    rendered = Image.open(io.BytesIO(_render(CHROMIUM, with_font, tmp_path / "with_font.png", tmp_path))).convert("L")
    fallback = Image.open(io.BytesIO(_render(CHROMIUM, without_font, tmp_path / "without_font.png", tmp_path))).convert("L")
    assert rendered.size == (1000, 700)
    assert rendered.getextrema()[0] < 100  # text was drawn
    # The embedded face is what sets the text: without it the page renders differently.
    assert ImageChops.difference(rendered, fallback).getbbox() is not None
    if not _korean_font_installed():
        # No system Korean font: the fallback page shows Hangul as empty boxes (.notdef), which
        # are all the same glyph; the embedded font draws distinct syllables. Compare the ink of
        # the heading line: distinct glyphs give more distinct column profiles than boxes do.
        def distinct_columns(image):
            band = image.crop((0, 0, 1000, 120))
            return len({band.crop((x, 0, x + 1, 120)).tobytes() for x in range(1000)})

        assert distinct_columns(rendered) > distinct_columns(fallback)
