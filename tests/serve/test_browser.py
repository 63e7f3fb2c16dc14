"""End-to-end: a real ``attnscope serve`` subprocess on a free loopback port, every page driven in
headless Debian Chromium (playwright with an explicit executable path; no browser download).

Skipped, with the reason, when playwright or /usr/bin/chromium is absent; ``.ci/install_browser.sh``
installs both, so in CI these run.
"""
from __future__ import annotations

import os
import re
import urllib.parse

import pytest

pytest.importorskip("playwright", reason="playwright is not installed (.ci/install_browser.sh installs it)")
from serve_helpers import CHROMIUM, DATA, chromium, fill_workdir, running_server  # noqa: E402

if not os.path.exists(CHROMIUM):
    pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (.ci/install_browser.sh)",
                allow_module_level=True)

TIMEOUT_MS = 60_000  # generous: 2 CPU cores shared with other jobs


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    with running_server(fill_workdir(tmp_path_factory.mktemp("e2e") / "work")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture()
def page(browser, base):
    """A fresh page that records console errors and any request leaving the local server."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    pg.errors, pg.external = [], []
    # JS errors, and failed sub-resources (a page answering 4xx to bad input is expected; its assets are not)
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error"
          and not m.text.startswith("Failed to load resource") else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("response", lambda r: pg.errors.append(f"{r.status} {r.url}") if r.status >= 400
          and r.request.resource_type != "document" else None)
    pg.on("request", lambda r: None if r.url.startswith((base, "data:", "about:")) else pg.external.append(r.url))
    yield pg
    assert not pg.external, f"requests left the local server: {pg.external}"
    ctx.close()


def test_server_binds_loopback_only(base):
    assert urllib.parse.urlparse(base).hostname == "127.0.0.1"


def test_index_tiles_lead_to_every_page(page, base):
    page.goto(base + "/")
    assert page.locator("a.tile").count() == 6
    page.click("a.tile:has-text('Ask')")
    page.wait_for_selector("#ask-form")
    assert page.url.endswith("/ask") and page.locator("nav a.active").inner_text() == "Ask"
    assert not page.errors


def test_profile_form_and_provenance(page, base, tmp_path):
    page.goto(base + "/profile")
    page.fill("#model", "llama-3-8b")
    page.fill("#context", "32768")
    page.click("#profile-form button")
    page.wait_for_selector("#card h2")
    assert "meta-llama/Meta-Llama-3-8B" in page.inner_text("#card h2")
    prov = page.locator("#card details.provenance").first
    assert not prov.locator("dl").is_visible()
    prov.locator("summary").click()  # provenance one click away
    assert "config sha256" in prov.inner_text()
    page.screenshot(path=str(tmp_path / "profile.png"))
    assert (tmp_path / "profile.png").stat().st_size > 10_000
    assert not page.errors


def test_profile_presets_filter_and_sort(page, base):
    page.goto(base + "/profile")
    rows = page.locator("#presets-table tbody tr")
    n = rows.count()
    page.fill(".table-filter", "pythia")
    visible = page.locator("#presets-table tbody tr:not([hidden])")
    assert 0 < visible.count() < n and all("pythia" in t for t in visible.all_inner_texts())
    page.click("#presets-table th:has-text('params (M)')")
    vals = [float(v) for v in page.eval_on_selector_all(
        "#presets-table tbody tr:not([hidden]) td:nth-child(4)", "els => els.map(e => e.dataset.v)")]
    assert vals == sorted(vals)
    page.click("#presets-table th:has-text('params (M)')")
    vals2 = [float(v) for v in page.eval_on_selector_all(
        "#presets-table tbody tr:not([hidden]) td:nth-child(4)", "els => els.map(e => e.dataset.v)")]
    assert vals2 == sorted(vals, reverse=True)
    assert not page.errors


def test_compare_page(page, base):
    page.goto(base + "/compare")
    page.fill("#m1", "llama-3-8b")
    page.fill("#m2", "qwen2.5-7b")
    page.fill("#m3", "mistral-7b")
    page.select_option("#recipe", "X-2")
    page.fill("#context", "32768")
    page.click("#compare-form button")
    page.wait_for_selector("#compare-summary")
    assert page.locator("#compare-summary tbody tr").count() == 3
    audit = page.locator("#compare-results details.audit").first
    audit.locator("summary").click()
    assert "γ_Padé" in audit.inner_text()
    assert not page.errors


def test_recipes_page_every_recipe_form(page, base):
    page.goto(base + "/recipes")
    links = page.locator(".recipe-link")
    from attnscope.recipes import RECIPES

    assert links.count() == len(RECIPES)
    page.click(".recipe-link:has-text('X-5')")
    page.fill("#model", "llama-3-70b")
    page.fill("#p_tokens_per_day", "1e8")
    page.fill("#p_batch", "16")
    page.click("#recipe-form button")
    page.wait_for_selector("#recipe-result")
    text = page.inner_text("#recipe-result")
    assert "usd_per_day" in text and "required throughput" in text and "per-GPU sizing" in text
    # the answer has a shareable URL with the inputs
    assert "p_tokens_per_day=1e8" in page.url
    assert not page.errors


def test_dataset_page_table_filters_sorting_and_record(page, base):
    page.goto(base + "/dataset")
    total = page.locator("#panel-table tbody tr").count()
    assert total > 50
    page.check("#f-clean")
    clean = page.locator("#panel-table tbody tr:not([hidden])").count()
    assert 0 < clean < total
    assert f"{clean} of {total} rows" in page.inner_text("[data-count-for=panel-table]")
    page.select_option("#f-corpus", "text")
    rows = page.locator("#panel-table tbody tr:not([hidden])")
    assert all(r.get_attribute("data-corpus") == "text" and r.get_attribute("data-clean") == "yes"
               for r in rows.all())
    page.click("#panel-table th:has-text('[95% CI]')")
    g = [float(v) for v in page.eval_on_selector_all("#panel-table tbody tr:not([hidden]) td:nth-child(6)",
                                                     "els => els.map(e => e.dataset.v).filter(v => v !== '')")]
    assert g == sorted(g) and len(g) >= 5
    page.fill("#panel-search", "gpt-j-6b")
    shown = page.locator("#panel-table tbody tr:not([hidden])").all_inner_texts()
    assert len(shown) == 1 and "gpt-j-6B" in shown[0]
    assert page.locator("#phase svg").count() >= 1
    assert page.locator("#scorecard-table tbody tr").count() >= 10
    page.locator("#panel-table tbody tr:not([hidden]) a:has-text('details')").first.click()
    page.wait_for_selector("text=Re-derivation")
    assert "gpt-j-6B (text)" in page.inner_text("h1")
    assert not page.errors


def test_results_open_and_upload(page, base, tmp_path):
    page.goto(base + "/results")
    assert "results.jsonl" in page.inner_text("#files-table")
    page.click("#files-table a:has-text('atlas.json')")
    page.wait_for_selector("#report")
    assert "Head atlas" in page.inner_text("#report")
    page.goto(base + "/results")
    page.set_input_files("#file", str(DATA / "results_tiny.jsonl"))
    page.click("#upload-form button")
    page.wait_for_selector("#report")
    assert "uploads" in page.url and "tiny-theta300" in page.inner_text("#report")
    href = page.get_attribute("#standalone", "href")
    page.goto(base + href)
    assert page.locator("nav.toc").count() == 1  # the standalone report page
    assert not page.errors


def test_results_bad_inputs_show_clear_messages(page, base, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "measurement"}\nnot json\n{"a": 1}\n')
    page.goto(base + "/results")
    page.set_input_files("#file", str(bad))
    page.click("#upload-form button")
    page.wait_for_selector("#error")
    assert "line 2 is not JSON" in page.inner_text("#error")
    page.goto(base + "/results?path=" + urllib.parse.quote("../../etc/passwd"))
    assert "outside the working folder" in page.inner_text("#error")
    page.goto(base + "/profile?model=no-such-org/no-such-model")
    assert "no-such-org/no-such-model" in page.inner_text("#error")


def test_ask_page(page, base):
    page.goto(base + "/ask")
    page.fill("#q", "Will Llama-3-8B serve 32K context?")
    page.click("#ask-form button")
    page.wait_for_selector("#understood")
    assert page.inner_text("#call") == 'X-2(model="llama-3-8b", context=32768)'
    assert "Llama-3-8B" in page.inner_text("#understood")
    assert "d_horizon" in page.inner_text("#answer")
    page.click("a:has-text('Cheapest GPU to serve Llama-70B')")
    page.wait_for_selector("#call")
    assert page.inner_text("#call") == 'X-5(model="llama-3-70b", tokens_per_day=1e8)'
    page.fill("#q", "Will Qwen 7B serve 32K context?")
    page.click("#ask-form button")
    assert "ambiguous" in page.inner_text("#error")
    assert not page.errors


def test_api_docs_page(page, base):
    page.goto(base + "/api/docs")
    assert page.locator("section.endpoint").count() >= 13
    assert re.search(r"POST\s+/api/recipes/\{recipe_id\}", page.inner_text("main"))
