"""The report in a real browser: headless Chromium at desktop and laptop widths, under a strict CSP.

The screenshots are kept as test artifacts under ``test-artifacts/report/`` (git-ignored) for a person
to look at; the assertions check what a reader needs: the answer (summary) in the first screen, no
horizontal scrolling, tables that sort and filter, nothing loaded from outside the file, and the inline
script running only under a policy that names its hash.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import resistscore as rs

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "report"
URL = "https://report.invalid/report.html"
#: (name, width, height): a desktop monitor and a laptop screen
VIEWPORTS = [("desktop", 1920, 1080), ("laptop", 1366, 768)]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium")


@pytest.fixture(scope="module")
def report_html() -> str:
    """A report of a real analysis of the toy cohort: groups, response and survival, with the overlap."""
    adata = rs.ds.toy(n_samples=30, seed=3)
    sigs = rs.sig.load(mechanism=["efflux_abc", "apoptosis", "dna_repair", "cancer_stem_cells"])
    rs.tl.score(adata, sigs, n_controls=200)
    design = rs.Design(group="group", response="log10_ic50", time="survival_months", event="event")
    stats = {
        "resistant vs sensitive": rs.tl.compare_groups(adata, group="group"),
        "IC50": rs.tl.associate(adata, "log10_ic50"),
        "survival": rs.tl.survival(adata, time="survival_months", event="event"),
    }
    return rs.report.html_report(
        adata, design=design, stats=stats, signatures=sigs, title="Toy cohort", date="2024-01-01"
    )


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield b
        b.close()


def _open(browser, doc: str, policy: str | None, width: int, height: int):
    """The report served at :data:`URL` (with ``policy`` as its CSP header); every other request is refused."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.errors, page.outside = [], []  # type: ignore[attr-defined]
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    headers = {"Content-Type": "text/html; charset=utf-8"}
    if policy is not None:
        headers["Content-Security-Policy"] = policy

    def route(r):
        if r.request.url == URL:
            r.fulfill(status=200, headers=headers, body=doc)
        else:
            page.outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(URL)
    return page


@pytest.mark.parametrize(("name", "width", "height"), VIEWPORTS)
def test_report_renders_answers_first_at_desktop_and_laptop_width(report_html, browser, name, width, height):
    page = _open(browser, report_html, rs.report.content_security_policy(), width, height)
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"report_{name}_first_screen.png"))
        page.screenshot(path=str(ARTIFACTS / f"report_{name}_full.png"), full_page=True)
        assert page.errors == [] and page.outside == []  # no CSP violation, no script error, no load
        # the answer comes first: the summary's first finding is in the first screen
        top = page.locator("ul.findings li").first.bounding_box()
        assert top is not None and top["y"] + top["height"] < height
        assert "resistant vs sensitive" in page.locator("ul.findings li").first.inner_text()
        # no horizontal scrolling of the page (wide tables scroll inside their own box)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        # every figure fits the width and was decoded
        sizes = page.evaluate(
            "Array.from(document.images).map(i => [i.naturalWidth, i.getBoundingClientRect().right])"
        )
        assert sizes and all(w > 0 and right <= width for w, right in sizes)
    finally:
        page.close()


def _column(page, table_id: str, header: str) -> list[str]:
    headers = page.locator(f"#{table_id} thead th").all_inner_texts()
    col = [h.strip(" \u25b2\u25bc") for h in headers].index(header)
    return page.locator(f"#{table_id} tbody tr:not([hidden]) td:nth-child({col + 1})").all_inner_texts()


def test_tables_sort_and_filter_under_a_strict_policy(report_html, browser):
    page = _open(browser, report_html, rs.report.content_security_policy(), 1366, 768)
    try:
        table = page.locator("table.data").first
        table_id = table.get_attribute("id")
        fdr = _column(page, table_id, "FDR")
        values = [float(v) for v in fdr if v != "NA"]
        assert values == sorted(values)  # shown sorted by FDR
        header = page.locator(f"#{table_id} thead th", has_text=re.compile(r"^FDR"))
        header.click()
        header.click()  # descending
        desc = [float(v) for v in _column(page, table_id, "FDR") if v != "NA"]
        assert desc == sorted(values, reverse=True)
        box = page.locator(f"input[aria-controls='{table_id}']")
        assert box.is_visible()
        box.fill("efflux_abc")
        shown = _column(page, table_id, "signature")
        assert shown and all("efflux_abc" in s for s in shown)
        assert len(shown) < len(fdr)
        # the shared genes of the scored signatures are a table of the report
        assert page.locator("#table-shared-genes tbody tr").count() > 0
        assert page.errors == [] and page.outside == []
    finally:
        page.close()


def test_without_the_hash_the_script_is_blocked_and_the_report_still_reads(report_html, browser):
    """The check above can fail: a policy without the script's hash blocks it (and the page says so)."""
    policy = rs.report.content_security_policy().replace(rs.report.script_hash(), "'none'")
    page = _open(browser, report_html, policy, 1366, 768)
    try:
        assert any("Content Security Policy" in e for e in page.errors)
        table_id = page.locator("table.data").first.get_attribute("id")
        assert not page.locator(f"input[aria-controls='{table_id}']").is_visible()  # no dead filter box
        assert page.locator(f"#{table_id} tbody tr").count() > 0  # the table is still there
        assert page.locator("ul.findings li").count() > 0
    finally:
        page.close()


def test_script_hash_is_the_hash_of_the_embedded_script(report_html):
    import base64
    import hashlib

    scripts = re.findall(r"<script>(.*?)</script>", report_html, flags=re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode("utf-8")).digest()).decode("ascii")
    assert rs.report.script_hash() == f"'sha256-{digest}'"
