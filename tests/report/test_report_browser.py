"""The report pages in a real browser (headless Chromium through Playwright): each loads with no
console error, every image decodes, the numbers the page shows are metrics.json's, a sortable
column sorts; a full-page screenshot of each is kept under `test-artifacts/report/`.

`.ci/run` installs Debian's `chromium`; without a Chromium these tests skip with one line."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from kerasact import report

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("KERASACT_ARTIFACTS", ROOT / "test-artifacts")) / "report"  # screenshots kept
PAGES = ("regression", "binary", "multiclass", "multilabel", "table", "log_dir", "study")


def _chromium() -> str | None:
    return next((found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))),
                None)


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api",
                                     reason="playwright is not installed: pip install -e '.[test]'")
    executable = _chromium()
    if executable is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install -y chromium)")
    with playwright.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=executable)
        yield launched
        launched.close()


def _open(browser, path: Path, shot: str):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda request: problems.append(f"network: {request.url}")
            if not request.url.startswith(("file:", "data:")) else None)
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
    return page, problems


def _page_of(kind: str, report_runs, study_dir) -> Path:
    if kind == "study":
        return study_dir / report.REPORT_FILE
    if kind == "log_dir":
        return report.compare(report_runs["log_dir"])
    return report_runs[kind] / report.REPORT_FILE


@pytest.mark.parametrize("kind", PAGES)
def test_the_page_loads_clean_and_every_image_decodes(browser, report_runs, study_dir, kind):
    page, problems = _open(browser, _page_of(kind, report_runs, study_dir), kind)
    images = page.evaluate("Array.from(document.images, i => [i.complete, i.naturalWidth, i.naturalHeight])")
    page.close()
    assert problems == []
    if kind not in ("log_dir", "study"):
        assert len(images) >= 2
    assert all(done and width > 0 and height > 0 for done, width, height in images)


@pytest.mark.parametrize("kind", ("regression", "binary", "multiclass", "multilabel", "table"))
def test_the_numbers_the_browser_shows_are_metrics_json(browser, report_runs, study_dir, kind):
    page, _ = _open(browser, _page_of(kind, report_runs, study_dir), f"{kind}-numbers")
    shown = page.evaluate("Object.fromEntries(Array.from(document.querySelectorAll('[data-metric]'),"
                          " c => [c.dataset.metric, c.textContent]))")
    page.close()
    run = json.loads((report_runs[kind] / "metrics.json").read_text())
    for part in ("test", "validation"):
        for name, value in run[part].items():
            assert float(shown[f"{part}.{name}"]) == pytest.approx(value, abs=5e-5), (part, name)


def test_a_sortable_column_sorts_in_the_browser(browser, report_runs, study_dir):
    page, _ = _open(browser, _page_of("table", report_runs, study_dir), "table-sorted")
    column = "#importance table th:nth-child(2)"
    read = ("Array.from(document.querySelectorAll('#importance tbody tr td:nth-child(2)'),"
            " c => parseFloat(c.dataset.value))")
    page.click(column)
    ascending = page.evaluate(read)
    page.click(column)
    descending = page.evaluate(read)
    page.close()
    assert ascending == sorted(ascending) and descending == sorted(descending, reverse=True) and len(ascending) >= 3
