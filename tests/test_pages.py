"""report.html and history.html in a real browser: headless Chromium (Debian's chromium and
chromium-driver, driven by Selenium with the system driver, so nothing is downloaded) opens
each page from disk, finds every cell, logs no console error, fetches nothing, prints."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import pytest

from tests.test_history import CELLS, save_run
from xner.reporting.history import build_history, load_runs, write_history
from xner.reporting.output import write_report_page, write_run
from xner.reporting.pages import cell_id
from xner.results.records import load_results
from xner.spec.identity import Cell

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
        pytest.skip(f"no Chromium here ({CHROMIUM}, {CHROMEDRIVER}: apt-get install chromium "
                    "chromium-driver)")  # fmt: skip
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1366,900"):
        options.add_argument(argument)
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # Both paths given: Selenium has nothing to look up, so selenium-manager never runs (it
    # would try to download a driver); SE_OFFLINE makes sure of it.
    os.environ["SE_OFFLINE"] = "true"
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def open_page(driver, path: Path, screenshot: Path) -> None:
    """Load `path`, check that it logged no error and fetched nothing, save a screenshot."""
    driver.get_log("browser")  # drop what an earlier page logged
    driver.get(path.resolve().as_uri())
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == [], f"{path.name} logged errors: {errors}"
    fetched = driver.execute_script("return performance.getEntriesByType('resource').length")
    assert fetched == 0, f"{path.name} fetched {fetched} resource(s): it must be self-contained"
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.alt, i.complete && i.naturalWidth])"
    )
    assert images and all(width > 100 for _, width in images), f"a picture did not load: {images}"
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1366, min(max(height, 900), 6000))  # the whole page in the shot
    assert driver.save_screenshot(str(screenshot)) and screenshot.stat().st_size > 20_000
    if os.environ.get("XNER_SCREENSHOTS"):  # a folder to look at the shots in, when wanted
        shutil.copy(screenshot, Path(os.environ["XNER_SCREENSHOTS"]) / screenshot.name)
    driver.set_window_size(1366, 900)
    pdf = base64.b64decode(driver.print_page())  # @media print: it prints
    assert pdf.startswith(b"%PDF")


@pytest.fixture
def run_folder(tmp_path):
    """A smoke-like run's files, with findings in its results.json as a run that judged its
    study's findings has them."""
    source = save_run(tmp_path / "src" / "results.json", "2026-12-01T10:00:00+00:00", 2e-3)
    loaded = load_results(source)
    out = tmp_path / "run"
    write_run(out, loaded.results, loaded.run, loaded.expected)
    payload = json.loads((out / "results.json").read_text())
    payload["findings"] = [
        {"name": "zero-shot-english-drops-most", "says": "trained on German, English loses "
         "the most", "verdict": "holds", "interval": {"low": 0.02, "high": 0.09}},
    ]  # fmt: skip
    (out / "results.json").write_text(json.dumps(payload))
    pictures = [out / "few_shot.png", out / "transfer.png"]
    write_report_page(out, loaded.results, pictures)
    return out, loaded.results


def test_report_page_shows_every_cell_with_its_interval(browser, run_folder, tmp_path):
    out, results = run_folder
    page = out / "report.html"
    text = page.read_text()
    assert "<script" not in text and "http://" not in text and "https://" not in text
    open_page(browser, page, tmp_path / "report.png")
    from selenium.webdriver.common.by import By

    for r in results:
        cell = Cell.of(r)
        found = browser.find_elements(By.CSS_SELECTOR, f'td[data-cell="{cell_id(cell)}"]')
        assert len(found) == 1, f"{cell} is not in the table once"
        low, high = r.interval["micro"]["low"], r.interval["micro"]["high"]
        assert found[0].text.replace("\n", "") == f"{r.f1:.4f}[{low:.3f}, {high:.3f}]"
        title = found[0].get_attribute("title")
        assert f"95% interval [{low:.4f}, {high:.4f}]" in title
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "Findings" in body and "zero-shot-english-drops-most" in body and "holds" in body
    assert "passes zero-shot de→fr" in body  # the crossover sentence


def test_history_page_highlights_the_flagged_steps(browser, tmp_path):
    runs = [
        save_run(tmp_path / "a.json", "2026-12-01T10:00:00+00:00", 2e-3),
        save_run(tmp_path / "c.json", "2026-12-01T11:00:00+00:00", 5e-3, shift=45),
        save_run(tmp_path / "b.json", "2026-12-01T12:00:00+00:00", 2e-3),
    ]
    history = build_history(load_runs(runs), resamples=300)
    write_history(history, tmp_path / "h")
    open_page(browser, tmp_path / "h" / "history.html", tmp_path / "history.png")
    from selenium.webdriver.common.by import By

    rows = browser.find_elements(By.CSS_SELECTOR, "table.history tbody tr")
    assert len(rows) == len(CELLS)
    for c in history.cells:
        figures = browser.find_elements(By.CSS_SELECTOR, f'td[data-cell="{cell_id(c.cell)}"]')
        assert len(figures) == 3, f"{c.cell}: one figure per run"
        assert [f.get_attribute("class") or "" for f in figures] == ["", "rise", "fall"]
        assert "step from" in figures[1].get_attribute("title")
        assert "recipes.smoke.learning_rate 0.002 -> 0.005" in figures[1].get_attribute("title")
    trends = browser.find_elements(By.CSS_SELECTOR, "figure img")
    assert {t.get_attribute("alt") for t in trends} == {"history-zero-shot.png",
                                                        "history-few-shot.png"}  # fmt: skip
