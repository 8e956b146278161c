"""archspec serve's page in a real headless Chromium (Debian's chromium + chromium-driver, driven by selenium).

One server and one browser; one test walks through the page as a student would: load, break the spec with
a typo, click the diagnostic, fix it, save (and meet a conflict). Screenshots go to
$ARCHSPEC_SCREENSHOTS (default: a temporary folder) as healthy.png, broken.png and fixed.png.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import ROOT
from serve_helpers import running

DRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
WAIT = 2.0  # seconds an edit may take to show (the bound)


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install 'archspec-nn[test]')"
    if BROWSER is None or not Path(DRIVER).exists():
        return "Chromium or its driver is missing and could not be installed (apt-get install chromium chromium-driver)"
    if shutil.which("dot") is None:
        return "Graphviz 'dot' is not installed: the page's diagram needs it"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = Path(os.environ.get("ARCHSPEC_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    spec = tmp_path_factory.mktemp("spec") / "q6-design.yaml"
    shutil.copy(ROOT / "specs/seed/q6-design.yaml", spec)
    options = webdriver.ChromeOptions()
    options.binary_location = BROWSER
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,900", "--no-first-run"):
        options.add_argument(arg)
    with running(spec) as srv:
        driver = webdriver.Chrome(options=options, service=Service(DRIVER))  # the driver's path: nothing is fetched
        try:
            driver.get(srv.url)
            _until(driver, lambda d: d.find_element("css selector", "body").get_attribute("data-checked"), 30)
            driver.spec_path = spec
            yield driver
        finally:
            driver.quit()


def _until(driver, test, seconds=WAIT):
    """``test(driver)`` once it is true; an element the page redrew meanwhile (stale) just means: ask again."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, poll_frequency=0.05,
                         ignored_exceptions=(StaleElementReferenceException, StopIteration)).until(test)


def _find(driver, css):
    return driver.find_elements("css selector", css)


def _diagnostics(driver) -> list[dict]:
    """The listed diagnostics as plain data (read in one go, so a redraw cannot pull them away half-read)."""
    return driver.execute_script("""return [...document.querySelectorAll('#diagnostics li')].map(e =>
        ({line: e.dataset.line, column: e.dataset.column, text: e.innerText}))""")


def _click(driver, css, text):
    """Click the element matching ``css`` that holds ``text`` (again if the page redrew it first)."""
    _until(driver, lambda d: next(e for e in _find(d, css) if text in e.text).click() or True)


def _line(driver, text):
    """Put the cursor on the editor line that holds ``text`` (a click right of its end)."""
    _click(driver, ".cm-line", text)


def _type(driver, *keys):
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(*keys).perform()


def _shot(driver, shots, name):
    path = shots / name
    driver.save_screenshot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000  # a drawn page, not blank


def _loads_with_the_diagram_and_the_table(page, shots):
    assert "No problems" in page.find_element("id", "diagnostics").text
    assert _find(page, "#diagram svg g.node"), "no diagram drawn"
    rows = _find(page, "#shapes tbody tr")
    assert len(rows) == 13 and "1,023,621" in rows[-1].text  # 12 layers and the total
    assert "fc1" in rows[-2].text and "62,725" in rows[-2].text
    assert not page.get_log("browser"), "the page logged errors (CSP, scripts)"
    _shot(page, shots, "healthy.png")


def _a_typo_is_marked_where_it_is(page, shots):
    from selenium.webdriver.common.keys import Keys

    _line(page, "type: linear")
    _type(page, Keys.END, Keys.LEFT, ", biass: false")
    (item,) = _until(page, lambda d: [x for x in _diagnostics(d) if "'biass'" in x["text"]])
    line, text = next((i, t) for i, t in enumerate((ROOT / "specs/seed/q6-design.yaml").read_text().splitlines(), 1)
                      if "type: linear" in t)
    assert item["line"] == str(line) and "did you mean 'bias'" in item["text"]
    assert item["text"].startswith(f"{line}:{item['column']}") and int(item["column"]) == len(text.rstrip("}")) + 3
    _until(page, lambda d: _find(d, ".cm-lint-marker-error") and _find(d, ".cm-lintRange-error"))
    underlined = " ".join(e.text for e in _find(page, ".cm-lintRange-error"))
    assert "biass" in underlined
    assert page.find_element("id", "stale").is_displayed() and _find(page, "#diagram svg")  # last drawing kept
    _shot(page, shots, "broken.png")


def _clicking_a_diagnostic_moves_the_cursor_to_its_line(page):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(page).key_down(Keys.CONTROL).send_keys(Keys.HOME).key_up(Keys.CONTROL).perform()  # to line 1
    _until(page, lambda d: d.find_element("css selector", ".cm-activeLineGutter").text == "1")
    (item,) = [x for x in _diagnostics(page) if "'biass'" in x["text"]]
    _click(page, "#diagnostics li", "'biass'")
    _until(page, lambda d: d.find_element("css selector", ".cm-activeLineGutter").text == item["line"])


def _fixing_it_brings_the_new_diagram(page, shots):
    from selenium.webdriver.common.keys import Keys

    _line(page, "biass")
    _type(page, Keys.END, *[Keys.LEFT] * len(": false}"), Keys.BACKSPACE)  # biass -> bias
    _until(page, lambda d: "No problems" in d.find_element("id", "diagnostics").text)
    _until(page, lambda d: "62,720" in d.find_element("id", "diagram").get_attribute("innerHTML"))  # fc1 w/o bias
    assert not page.find_element("id", "stale").is_displayed() and not _find(page, ".cm-lint-marker-error")
    assert "62,720" in _find(page, "#shapes tbody tr")[-2].text
    _shot(page, shots, "fixed.png")


def _save_writes_the_file_and_reports_a_conflict(page):
    spec = page.spec_path
    page.find_element("id", "save").click()
    _until(page, lambda d: "bias: false}" in spec.read_text() and "saved" in d.find_element("id", "status").text)
    spec.write_text(spec.read_text() + "# edited elsewhere\n")
    page.find_element("id", "save").click()
    _until(page, lambda d: "changed on disk" in d.find_element("id", "status").text)
    assert spec.read_text().endswith("# edited elsewhere\n")


def test_a_student_breaks_fixes_and_saves_the_spec(page, shots):
    """One test, so the steps run in order on one page even when pytest-xdist spreads a module's tests."""
    _loads_with_the_diagram_and_the_table(page, shots)
    _a_typo_is_marked_where_it_is(page, shots)
    _clicking_a_diagnostic_moves_the_cursor_to_its_line(page)
    _fixing_it_brings_the_new_diagram(page, shots)
    _save_writes_the_file_and_reports_a_conflict(page)
