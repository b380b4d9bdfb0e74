"""The served UI in a real browser: headless Debian Chromium driven by Selenium and Debian's
chromedriver (the same release as the browser, so no driver is downloaded).

The browser looks at the session's `cityrank serve` (tests/serving.py: the daemon loads a CIMI
report dropped into the landing folder and a GSER edition found by a scheduled poll) and checks
what an operator looks at: the asset graph lists the index groups, an edition's pages show its
checks passed and the rank chart, the automation page lists the schedules and sensors.
Screenshots go to test-artifacts/ui/ (ignored by git); each one's path is printed.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conftest import REPO

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
# Without the background-networking flags Chromium keeps trying Google's hosts, which a closed
# network refuses.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1400,1000")
ARTIFACTS = REPO / "test-artifacts" / "ui"
INDEX_GROUPS = ("gci", "gco", "gpci", "qol", "eiu", "gser", "gfci", "cimi", "gdci")
EDITION = ("CIMI", "2019")

pytestmark = pytest.mark.skipif(not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()),
                                reason="Debian's chromium and chromium-driver are not installed "
                                       "(apt-get install chromium chromium-driver; .ci/run does it as root)")


@pytest.fixture(scope="module")
def served_ui(served_instance):
    """The session's `cityrank serve` (tests/serving.py), once the dropped CIMI 2019 report is loaded."""
    served = served_instance
    served.wait_until(f"{EDITION} in mart.city_scores", lambda: EDITION in served.loaded_editions(), 240)
    return served.base_url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    pytest.importorskip("selenium", reason="selenium is not installed (pip install -e '.[test]')")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def page_showing(driver, url: str, texts: list[str], screenshot: str, timeout: float = 60) -> str:
    """Open `url`, wait until the page's text holds every one of `texts`, save a screenshot."""
    from selenium.common.exceptions import TimeoutException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    path = ARTIFACTS / screenshot
    body = ""

    def shows_all(d) -> bool:
        nonlocal body
        for button in d.find_elements(By.XPATH, "//button[normalize-space()='Skip']"):
            try:
                button.click()  # the first visit's "Join the Dagster community" dialog covers the page
            except WebDriverException:  # already gone, or re-rendered: the next poll looks again
                pass
        body = d.find_element(By.TAG_NAME, "body").text
        return all(t in body for t in texts)

    try:
        WebDriverWait(driver, timeout, poll_frequency=0.5).until(shows_all)
    except TimeoutException:
        driver.save_screenshot(str(path))
        missing = [t for t in texts if t not in body]
        raise AssertionError(f"{url}: missing {missing}; screenshot {path}") from None
    time.sleep(0.5)  # let the last images paint before the picture is taken
    assert driver.save_screenshot(str(path)) and path.stat().st_size > 0
    print(f"screenshot: {path}")
    return body


def lines(body: str) -> set[str]:
    return {line.strip() for line in body.splitlines()}


def test_asset_graph_lists_the_index_groups(served_ui, browser):
    # The catalog's asset list is virtualised (only rows in view are in the page); the lineage
    # page lists every group by name beside the graph, one box per group.
    groups = [*INDEX_GROUPS, "mart", "acquisition"]
    body = page_showing(browser, f"{served_ui}/asset-groups", ["Global asset lineage", *groups], "asset-graph.png")
    assert set(groups) <= lines(body), sorted(set(groups) - lines(body))


def test_the_edition_page_shows_its_checks_passed_and_the_rank_chart(served_ui, browser):
    from selenium.webdriver.common.by import By

    code, edition = EDITION
    checks = ("expectation_suite", "matches_previous_edition", "methodology_unchanged", "sources_agree")
    body = page_showing(browser, f"{served_ui}/assets/{code.lower()}/validated_scores?view=checks",
                        # The execution's description can render after its status: wait for it too.
                        [f"{name}\nSucceeded" for name in checks] + ["Passed", f"\n{code} {edition}\n"],
                        "edition-checks.png")
    # The selected (blocking) suite check's latest execution is this edition's, and it passed.
    assert f"{code} {edition}" in lines(body) and f"Partition\n{edition}" in body

    body = page_showing(browser, f"{served_ui}/assets/{code.lower()}/warehouse_scores?view=events&partition={edition}",
                        [f"Partition {edition} materialized", "rank_chart", "rank_history", f"{code} {edition}: Seoul"],
                        "edition-rank-chart.png")
    # The compact SVG chart is drawn in place (the markdown image the load attached), not a broken image.
    charts = [img for img in browser.find_elements(By.TAG_NAME, "img")
              if (img.get_attribute("src") or "").startswith("data:image/svg+xml")]
    assert charts, "no inline rank chart on the edition's materialisation"
    assert browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", charts[0]) > 0
    assert charts[0].size["height"] > 20 and charts[0].get_attribute("alt").startswith(f"Seoul {code} rank per edition")


def test_the_automation_page_lists_schedules_and_sensors(served_ui, browser):
    from cityrank_pipeline.definitions import build_definitions

    defs = build_definitions(REPO / "assets")
    names = sorted({s.name for s in defs.schedules} | {s.name for s in defs.sensors})
    assert len(names) > 20  # every index's polls and sensors, the views refresh, the daily calendar
    # "Every minute" is the served catalog's GSER poll, the schedule the daemon fired.
    body = page_showing(browser, f"{served_ui}/automation", [*names, "Every minute"], "automation.png")
    assert set(names) <= lines(body), sorted(set(names) - lines(body))
