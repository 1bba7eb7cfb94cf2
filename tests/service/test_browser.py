"""The service as a person uses it: headless chromium (Debian's) driven by Playwright.

Uploads the toy cohort and a real NCI-60 file through the form, follows the progress, opens the results,
sorts a table, downloads a file, and tries errors. Screenshots go to ``test-artifacts/service/``.
Browsers are never downloaded: ``/usr/bin/chromium`` must exist (``bash run.sh test`` installs it).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pandas as pd
import pytest

import resistscore as rs

from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = Path(os.environ.get("RESISTSCORE_CHROMIUM", "/usr/bin/chromium"))
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium); `bash run.sh test` does."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """One real server for the module (its own data folder, uploads up to 15 MiB)."""
    from resistscore.service._process import ServerProcess

    d = tmp_path_factory.mktemp("browser")
    server = ServerProcess(d / "data", d / "server.log", max_upload_mb=15)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def toy_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("toy")
    adata = rs.ds.toy()
    adata.to_df().T.to_csv(d / "toy_expression.csv")
    adata.obs.to_csv(d / "toy_samples.csv")
    return d


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    errors = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.errors = errors
    yield pg
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def upload(
    page, live, expression: Path, metadata: Path | None = None, group: str | None = None, name: str = "form"
):
    page.goto(live.url + "/")
    page.get_by_label("Expression table (required)").set_input_files(str(expression))
    if metadata is not None:
        page.get_by_label("Sample metadata (optional)").set_input_files(str(metadata))
        page.wait_for_selector("#group option:nth-child(2)", state="attached")  # columns offered by the page
    if group is not None:
        page.get_by_label("Group column (compare groups)").select_option(group)
    shot(page, name)
    button = page.get_by_role("button", name="Start the analysis")
    button.focus()
    page.keyboard.press("Enter")  # submitted with the keyboard


def test_form_is_labelled_and_keyboard_usable(page, live):
    page.goto(live.url + "/")
    unlabelled = page.evaluate(
        """Array.from(document.querySelectorAll('input:not([type=hidden]), select, button'))
             .filter(e => e.tagName !== 'BUTTON' ? e.labels.length === 0 : !e.textContent.trim())
             .map(e => e.id || e.name)"""
    )
    assert unlabelled == []
    reached = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.id"))
    for needed in ("expression", "metadata", "sig-all", "method", "group", "seed", "submit"):
        assert needed in reached, f"#{needed} not reachable with Tab"
    shot(page, "form")


def test_toy_cohort_upload_progress_results_download(page, live, toy_files):
    upload(
        page,
        live,
        toy_files / "toy_expression.csv",
        toy_files / "toy_samples.csv",
        group="group",
        name="toy-form",
    )
    page.wait_for_url("**/jobs/*", timeout=60_000)
    page.wait_for_selector("#status")
    shot(page, "toy-progress")
    job_url = page.url
    page.reload()  # the job page survives a reload
    assert page.locator("#status").inner_text() in ("queued", "running", "done")
    page.wait_for_url("**/results", timeout=300_000)
    page.wait_for_selector("table.sortable")
    shot(page, "toy-results")
    assert page.frame_locator("#report").locator("body").inner_text(timeout=30_000)
    assert page.locator("#repro-cli").inner_text().startswith("resistscore report toy_expression.csv")

    # sort the scores table by its second column, descending
    table = page.locator("table.sortable").first
    button = table.locator("thead th button.sort").nth(1)
    button.click()
    button.click()
    values = [float(v) for v in table.locator("tbody tr td:nth-child(2)").all_inner_texts()]
    assert values == sorted(values, reverse=True) and len(values) == 60

    with page.expect_download() as info:
        page.get_by_role("link", name="scores.csv", exact=True).click()
    downloaded = pd.read_csv(info.value.path(), index_col=0)
    job_id = job_url.rstrip("/").rsplit("/", 1)[-1]
    with live.client() as http:
        api = pd.read_csv(io.StringIO(http.get(f"/api/jobs/{job_id}/files/scores.csv").text), index_col=0)
    pd.testing.assert_frame_equal(downloaded, api)
    assert downloaded.shape[0] == 60
    assert page.errors == []


@pytest.mark.realdata
def test_nci60_upload(page, live, nci60_dir):
    """The real NCI-60 panel as published (probe sets beside a ``symbol`` column)."""
    page.goto(live.url + "/")
    page.get_by_label("Expression table (required)").set_input_files(
        str(nci60_dir / "expression_u133a_gcrma.csv.gz")
    )
    page.get_by_label("Gene identifier column (optional)").fill("symbol")
    shot(page, "nci60-form")
    page.get_by_role("button", name="Start the analysis").click()
    page.wait_for_url("**/results", timeout=300_000)
    page.wait_for_selector("table.sortable")
    shot(page, "nci60-results")
    assert "--gene-column symbol" in page.locator("#repro-cli").inner_text()
    assert "OV:NCI_ADR_RES" in page.locator("table.sortable").first.inner_text()


def test_errors_shown_to_the_user(page, live, tmp_path, toy_files):
    binary = tmp_path / "expression.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64)
    upload(page, live, binary, name="error-binary-form")
    alert = page.get_by_role("alert")
    assert "binary file of an unknown kind" in alert.inner_text()
    shot(page, "error-binary")

    big = tmp_path / "big.csv"
    with open(big, "w") as fh:
        fh.write("gene,S1\n")
        for i in range(1_200_000):
            fh.write(f"G{i},{i}\n")
    assert big.stat().st_size > 15 * 2**20
    upload(page, live, big, name="error-big-form")
    assert "larger than the limit" in page.get_by_role("alert").inner_text()
    shot(page, "error-oversized")

    # metadata matching no sample: the job fails with a message on its page
    nomatch = tmp_path / "samples.csv"
    pd.DataFrame({"group": ["a", "b"] * 5}, index=[f"nobody_{i}" for i in range(10)]).to_csv(nomatch)
    upload(page, live, toy_files / "toy_expression.csv", nomatch, group="group", name="error-metadata-form")
    page.wait_for_url("**/jobs/*", timeout=60_000)
    page.wait_for_selector("#status:text('failed')", timeout=300_000)
    message = page.locator("#error").inner_text()
    assert message and "internal error" not in message
    shot(page, "error-metadata")
