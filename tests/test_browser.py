"""The pages in a real browser: headless Chromium (Debian's `chromium`, which `.ci/run` installs)
driven by Playwright, against `datasette serve` started as `taskshift serve` does, on 127.0.0.1.

Every page type loads with no console error and its charts drawn (SVG marks counted against the
JSON the chart reads); the home search lands on the role page; the workforce form returns a result;
the API docs run an example; a phone-width render does not overflow. Screenshots of every page type
are written to dist/screenshots/ (desktop and phone).
"""
from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from taskshift.site.serve import datasette_command

from .conftest import free_port

REPO = Path(__file__).resolve().parents[1]
SHOTS = REPO / "dist" / "screenshots"
CHROMIUM = os.environ.get("TASKSHIFT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROLE = "15-1252.00"
PAGES = {
    "home": "/",
    "role": f"/role/{ROLE}",
    "sector": "/sector/52",
    "state": "/state/DC",
    "measure": "/measure/eloundou2023_gpt4_beta",
    "measures": "/measures",
    "sectors": "/sectors",
    "observed": "/observed",
    "workforce": "/workforce",
    "api": "/api",
}


@pytest.fixture(scope="module")
def server(built_db, tmp_path_factory):
    """`datasette serve` of the session's database (an immutable copy with its inspect file) on a free port."""
    folder = tmp_path_factory.mktemp("served")
    db = folder / "taskshift.db"
    shutil.copyfile(built_db, db)
    port = free_port()
    log = open(folder / "server.log", "w")
    proc = subprocess.Popen(datasette_command(db, port=port), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"datasette exited: {(folder / 'server.log').read_text()[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/-/versions.json")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("datasette did not answer within 90 s")
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium (.ci/run does)")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport={"width": 1280, "height": 900}, service_workers="block")
        yield context
        context.close()


class Watched:
    """A page whose console errors, uncaught exceptions and failed requests are collected."""

    def __init__(self, context, base: str):
        self.page = context.new_page()
        self.base = base
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        # a request the browser aborts because the page navigates away (e.g. search suggestions) is no error
        self.page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url} {r.failure}")
                     if "ERR_ABORTED" not in (r.failure or "") else None)
        self.page.on("response", lambda r: self.problems.append(f"HTTP {r.status}: {r.url}")
                     if r.status >= 400 and urlparse(r.url).netloc == urlparse(base).netloc else None)
        self.page.route("**/*", self._offline)

    def _offline(self, route):
        """Nothing but this site: any other request is refused and reported (the site must work offline)."""
        if route.request.url.startswith(self.base):
            route.continue_()
        else:
            self.problems.append(f"external request: {route.request.url}")
            route.abort()

    def goto(self, path: str):
        self.page.goto(self.base + path)
        self.page.wait_for_load_state("networkidle")

    def close(self):
        self.page.close()


@pytest.fixture()
def watched(browser, server):
    pages = []

    def make() -> Watched:
        w = Watched(browser, server)
        pages.append(w)
        return w
    yield make
    for w in pages:
        w.close()


def _expected_marks(page, base: str, figure) -> int:
    """Rows of the chart's JSON that the chart must draw, counted here, not by the page's script."""
    src = figure.get_attribute("data-src")
    field = figure.get_attribute("data-field")
    kind = figure.get_attribute("data-chart")
    if src.startswith("#"):
        import json
        data = json.loads(page.locator(src).text_content())
    else:
        data = page.request.get(base + src).json()
    rows = data[field] if field else data
    x = figure.get_attribute("data-x") or ("percentile" if kind in ("dots", "scatter") else None)
    if kind == "scatter":
        return sum(1 for r in rows if r["percentile"] is not None and (r["employment"] or 0) > 0)
    if kind in ("dots", "bars"):
        return sum(1 for r in rows if r.get(x) is not None)
    if kind == "series":
        return sum(1 for r in rows if r.get(figure.get_attribute("data-y")) is not None)
    return len(rows)  # hist: every bin; stack: every segment


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_without_errors_with_its_charts_drawn(watched, name):
    w = watched()
    w.goto(PAGES[name])
    page = w.page
    page.wait_for_function("() => [...document.querySelectorAll('figure.ts-chart')].every(f => f.dataset.drawn || f.dataset.error)"
                           " && [...document.querySelectorAll('[data-lazy-src]')].every(s => s.dataset.loaded || s.dataset.error)",
                           timeout=20000)
    figures = page.locator("figure.ts-chart").all()
    if name in ("home", "role", "sector", "state", "measure", "sectors", "observed"):
        assert figures, f"{name} has no chart"
    for fig in figures:
        assert fig.get_attribute("data-error") is None, fig.get_attribute("data-error")
        expected = _expected_marks(page, w.base, fig)
        drawn = fig.locator("svg .mark").count()
        assert drawn == expected > 0, (name, fig.get_attribute("data-chart"), drawn, expected)
        # every chart has a text or table alternative next to it
        assert fig.locator("xpath=following-sibling::*[contains(@class, 'ts-alt')][1]").count() or \
            fig.locator("figcaption").count(), (name, fig.get_attribute("data-chart"))
    assert page.title() and page.locator("meta[name=description]").get_attribute("content")
    assert page.locator(".ts-attribution").count() == 1
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    assert w.problems == []


def test_home_map_has_one_linked_shape_per_state(watched):
    """The state choropleth: 51 shapes (the 50 states and DC) from the vendored us-atlas file, each a link to its page;
    following one lands on the state page."""
    w = watched()
    w.goto("/")
    fig = w.page.locator("figure[data-chart=map]")
    w.page.wait_for_function("() => document.querySelector('figure[data-chart=map]').dataset.drawn", timeout=20000)
    shapes = fig.locator("svg a path.mark")
    assert shapes.count() == 51 == int(fig.get_attribute("data-drawn"))
    hrefs = {fig.locator("svg a").nth(i).get_attribute("href") for i in range(51)}
    assert len(hrefs) == 51 and "/state/DC" in hrefs and "/state/CA" in hrefs
    assert fig.locator("svg a[href='/state/CA'] path").get_attribute("fill") != fig.locator("svg a[href='/state/DC'] path").get_attribute("fill")
    fig.locator("svg a[href='/state/CO']").click()
    w.page.wait_for_url("**/state/CO")
    assert w.page.locator("h1").first.text_content().startswith("Colorado")
    assert w.problems == []


def test_search_software_engineer_lands_on_the_role_page(watched):
    w = watched()
    w.goto("/")
    w.page.fill("#ts-q", "software engineer")
    w.page.press("#ts-q", "Enter")
    w.page.wait_for_url(f"**/role/{ROLE}")
    assert w.page.locator("h1").first.text_content().startswith("Software Developers")
    w.page.wait_for_selector("#pivots[data-loaded]")
    assert w.page.locator(".ts-pivot").count() >= 1
    # the task filter: only E0 tasks left
    rows = w.page.locator("#ts-tasks tbody tr")
    e0 = w.page.locator("#ts-tasks tbody tr[data-label=E0]").count()
    w.page.select_option("[data-filter-label]", "E0")
    assert sum(rows.nth(i).is_visible() for i in range(rows.count())) == e0
    # observed use beside the predicted figure, and an observed-use label per task
    assert w.page.locator(".ts-use-automation").first.is_visible() and w.page.locator(".ts-use-predicted").first.is_visible()
    assert w.page.locator("#ts-tasks td.ts-use[data-use=automation]").count() >= 1
    assert w.problems == []


def test_role_page_draws_employment_and_wages_over_time(watched):
    """The role page's OEWS series: one dot per May for employment and for the mean wage, the same as the table."""
    w = watched()
    w.goto("/role/43-9021.00")
    w.page.wait_for_function("() => [...document.querySelectorAll('#observed figure.ts-chart')].every(f => f.dataset.drawn)")
    charts = w.page.locator("#observed figure.ts-chart[data-chart=series]")
    assert charts.count() == 2
    for i in range(2):
        assert charts.nth(i).locator("svg .mark").count() == 7  # May 2019 ... May 2025
    assert "May 2025: 127,080" in charts.nth(0).locator("svg .mark").last.text_content()
    assert w.page.locator("#observed table.ts-observed-years tbody tr").count() == 7
    assert w.problems == []


def test_workforce_form_returns_a_result(watched):
    w = watched()
    w.goto("/workforce")
    w.page.fill("#ts-rows", "role or job title,headcount\n15-1252.00,120\ncustomer service representative,300\ncashier,80\n")
    w.page.click("button[type=submit]")
    w.page.wait_for_selector("#result")
    w.page.wait_for_function("() => document.querySelector('#result figure.ts-chart').dataset.drawn")
    assert "500 people in 3 occupations" in w.page.locator("#result .ts-answer").text_content()
    marks = w.page.locator("#result figure.ts-chart svg .mark").count()
    assert marks >= 15
    assert w.page.locator("#ts-most-exposed tbody tr").count() == 3
    assert "curl -X POST" in w.page.locator("#result pre").first.text_content()
    w.page.screenshot(path=str(SHOTS / "workforce-result.png"), full_page=True)
    assert w.problems == []


def test_api_docs_run_an_example(watched):
    w = watched()
    w.goto("/api")
    box = w.page.locator("#score_role .ts-run")
    box.locator("[data-run]").click()
    w.page.wait_for_function("() => document.querySelector('#score_role .ts-run').dataset.status")
    assert box.get_attribute("data-status") == "200"
    assert '"code": "15-1252.00"' in box.locator(".ts-run-out").text_content()
    assert w.problems == []


def test_phone_width(browser, server):
    page = browser.new_page()
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        for name in ("home", "role", "sector", "workforce"):
            page.goto(server + PAGES[name])
            page.wait_for_load_state("networkidle")
            page.wait_for_function("() => [...document.querySelectorAll('figure.ts-chart')].every(f => f.dataset.drawn)")
            # nothing wider than the screen but the tables, which scroll inside their own box
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
            for svg in page.locator("figure.ts-chart svg").all():
                assert svg.bounding_box()["width"] <= 390
            page.screenshot(path=str(SHOTS / f"phone-{name}.png"), full_page=True)
    finally:
        page.close()
    assert problems == []
