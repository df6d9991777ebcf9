"""The dashboard in a real headless browser (Debian's chromium driven by Playwright).

A worker of its own (fresh topics, empty table) serves the page; the seed is replayed while
the page is open, and its speakers must appear without a reload; a click, and then the
keyboard, open a speaker's drill-down. A statement whose article URL is a ``javascript:`` URL
is shown without a link, and the page runs under its Content-Security-Policy without a
violation. The screenshot is kept in ``.streams/test-artifacts/dashboard.png``.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from streams.codec import dumps
from streams.kafka.clients import ensure_topics, producer
from streams.records import Speaker, Statement
from streams.settings import Settings
from streams.sources.replay import replay
from tests.conftest import ROOT, SEED
from tests.integration.conftest import Worker, free_port

pytestmark = pytest.mark.integration

CHROMIUM = (
    os.environ.get("STREAMS_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
)
ARTIFACTS = ROOT / ".streams" / "test-artifacts"
# a closed network: keep chromium from calling home (see the machine notes in the README)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def dashboard_worker(
    kafka: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    settings = kafka.model_copy(
        update={"topic_prefix": "dash.", "app_id": "streams-dash", "web_port": free_port()}
    )
    asyncio.run(ensure_topics(settings))
    worker = Worker(settings, tmp_path_factory.mktemp("dash") / "worker.log").start()
    try:
        worker.wait_complete()  # the page's first answer is then the complete empty table
        yield settings
    finally:
        worker.stop()


SCRIPT_URL = "javascript:document.title='owned'//https://example.org/"


async def _produce_statement(settings: Settings, url: str) -> None:
    speaker = Speaker(
        id="person:mallory-script", name="Mallory Script", type="person", mention="Mallory",
        start=0, end=7,
    )  # fmt: skip
    statement = Statement(
        statement_id="script-url-1", article_id="script-url", speaker=speaker, cue="said",
        content="Click the article link", start=20, end=42, kind="direct", url=url,
    )  # fmt: skip
    client = producer(settings)
    await client.start()
    try:
        await client.send_and_wait(
            settings.internal_topic("statements-unidentified"),
            dumps(statement),
            key=speaker.id.encode(),
        )
    finally:
        await client.stop()


def test_dashboard_shows_speakers_live_and_drills_down(dashboard_worker: Settings) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: `make test` installs Debian's chromium"
    settings = dashboard_worker
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            # a Content-Security-Policy violation shows only as a console error
            page.on(
                "console",
                lambda msg: (
                    errors.append(msg.text) if "Content Security Policy" in msg.text else None
                ),
            )
            failed: list[str] = []  # a 404 for /favicon.ico, say
            page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
            base = f"http://127.0.0.1:{settings.web_port}"
            page.goto(f"{base}/")
            expect(page.locator("#status")).to_have_text("0 speakers", timeout=15_000)
            assert page.locator("#speakers tbody tr").count() == 0
            # an empty live feed says what it waits for
            expect(page.get_by_text("Waiting for statements")).to_be_visible()

            # Playwright's sync API runs a loop in this thread: replay from another one
            with ThreadPoolExecutor(1) as pool:
                pool.submit(asyncio.run, replay(settings, [SEED], progress=False)).result()

            rows = page.locator("#speakers tbody tr")
            araghchi = page.locator("#speakers tbody button.name", has_text="Abbas Araghchi")
            expect(araghchi).to_be_visible(timeout=120_000)
            for name in ("Donald Trump", "Vladimir Putin", "Kremlin"):
                expect(page.locator("#speakers tbody", has_text=name)).to_be_visible(timeout=60_000)
            expect(page.locator("#feed li").first).to_be_visible()
            expect(page.get_by_text("Waiting for statements")).to_be_hidden()
            assert rows.count() >= 5
            # every top-stance bar has its target as label, the first one of a row included
            bars = page.locator("#speakers .bars")
            assert page.locator("#speakers .bars > :not(.stance)").count() == 0
            labelled = page.locator("#speakers .bars > .stance > .target")
            assert labelled.count() == page.locator("#speakers .bars .bar").count() > 0
            assert all(t.strip() for t in labelled.all_inner_texts())
            assert bars.count() == rows.count()

            araghchi.click()
            detail = page.locator("#detail")
            expect(detail).to_be_visible()
            expect(detail.locator("h2")).to_have_text("Abbas Araghchi")
            expect(detail.locator("li").first).to_be_visible()  # recent statements
            # the timeline as a chart (the seed's articles are dated when fetched: today)
            expect(detail.locator("#timeline .col").first).to_be_visible(timeout=15_000)
            # the quotations, each carried by its outlets
            quotes = detail.locator("#quotations li")
            expect(quotes.first).to_be_visible()
            assert all("carried by" in t for t in quotes.all_inner_texts())
            # only a direct quote's words stand in quotation marks
            said = detail.locator(".said li")
            assert said.count() >= 2
            for i in range(said.count()):
                item = said.nth(i)
                direct = item.inner_text().rstrip().endswith("· direct")
                assert (item.locator("q").count() == 1) == direct, item.inner_text()
                assert direct or " that " in f" {item.inner_text()}", item.inner_text()
            page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
            detail.get_by_role("button", name="per hour").click()
            expect(detail.locator("#timeline")).to_have_attribute(
                "aria-label", re.compile(r"hour buckets")
            )

            # the keyboard alone: Escape closes, Tab reaches a name, Enter opens it
            page.keyboard.press("Escape")
            expect(detail).to_be_hidden()
            trump = page.locator("#speakers tbody button.name", has_text="Donald Trump")
            trump.focus()
            page.keyboard.press("Enter")
            expect(detail.locator("h2")).to_have_text("Donald Trump")

            # the search box asks /speakers?q=&type=
            page.keyboard.press("Escape")
            page.fill("#q", "araguchi")  # an alias
            expect(rows).to_have_count(1, timeout=10_000)
            expect(rows.first).to_contain_text("Abbas Araghchi")
            page.fill("#q", "")
            page.select_option("#type", "org")
            expect(page.locator("#speakers tbody", has_text="Kremlin")).to_be_visible()
            expect(page.locator("#speakers tbody", has_text="Donald Trump")).to_be_hidden()
            page.select_option("#type", "")
            expect(trump).to_be_visible()

            # a statement whose article URL is a script: shown, never a link
            with ThreadPoolExecutor(1) as pool:
                pool.submit(asyncio.run, _produce_statement(settings, SCRIPT_URL)).result()
            item = page.locator("#feed li", has_text="Mallory Script")
            expect(item).to_be_visible(timeout=60_000)
            assert item.locator("a").count() == 0
            item.locator("button.name").click()
            expect(detail.locator("h2")).to_have_text("Mallory Script", timeout=30_000)
            expect(detail.locator("li").first).to_be_visible()
            assert detail.locator("a").count() == 0
            assert page.locator("a[href^='javascript']").count() == 0

            # on a short window the drill-down (below the whole table, taller than the
            # window) opens with its heading and Close button in view, not off-screen
            page.keyboard.press("Escape")
            page.set_viewport_size({"width": 1280, "height": 400})
            page.evaluate("window.scrollTo(0, 0)")
            araghchi.click()
            expect(detail.locator("h2")).to_have_text("Abbas Araghchi")
            assert detail.bounding_box()["height"] > 400  # type: ignore[index]
            expect(detail.locator("h2")).to_be_in_viewport()
            expect(detail.get_by_role("button", name="Close")).to_be_in_viewport()
            assert errors == []
            assert failed == []
            # browsers ask every page of the worker's for its icon, the JSON ones too
            with urllib.request.urlopen(f"{base}/favicon.ico", timeout=10) as icon:
                assert icon.headers["Content-Type"] == "image/svg+xml"
                assert icon.read().startswith(b"<svg")
        finally:
            browser.close()
