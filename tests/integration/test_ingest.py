"""``streams ingest`` against a local news site that misbehaves on purpose, on the real Kafka."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from streams.ingest.feeds import FeedConfig, feed
from streams.ingest.ingester import FeedSummary, Ingester
from streams.kafka.tail import tail
from streams.records import Article
from streams.settings import Settings
from tests.integration.conftest import settings_env
from tests.integration.feed_site import FOOTER, GERMAN, NAV, SIDEBAR, STORIES, serve

pytestmark = pytest.mark.integration
TIMEOUT = 0.5


@pytest.fixture(scope="module")
def site() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    serve(server, timeout=TIMEOUT)
    try:
        yield server
    finally:
        server.clear()
        server.stop()


@pytest.fixture(scope="module")
def settings(kafka: Settings) -> Settings:
    return kafka.model_copy(
        update={
            "topic_prefix": "ingest-it.",
            "ingest_timeout": TIMEOUT,
            "ingest_retries": 1,
            "ingest_backoff": 0.05,
            "ingest_host_delay": 0.0,
            "ingest_max_bytes": 100_000,
        }
    )


GOOD = ("rss.xml", "atom.xml", "feed.json")
BAD = {
    "missing.xml": "HTTP 404",
    "broken.xml": "HTTP 500",
    "slow.xml": "timed out",
    "loop.xml": "redirects",
    "malformed.xml": "malformed feed",
    "not-a-feed.xml": "not a feed",
    "huge.xml": "over the cap",
}


def feeds(site: HTTPServer) -> list[FeedConfig]:
    return [feed(site.url_for(f"/{path}"), interval=60, name=path) for path in (*GOOD, *BAD)]


def poll(settings: Settings, configs: list[FeedConfig], rounds: int = 1) -> list[list[FeedSummary]]:
    async def run() -> list[list[FeedSummary]]:
        async with Ingester(settings) as ingester:
            return [await ingester.run_once(configs) for _ in range(rounds)]

    return asyncio.run(run())


def articles(settings: Settings) -> list[Article]:
    records: list[dict[str, Any]] = []
    asyncio.run(
        tail(settings, "articles.raw", records.append, from_beginning=True, idle_timeout=1.5)
    )
    return [Article.model_validate(r["value"]) for r in records]


@pytest.fixture(scope="module")
def polls(settings: Settings, site: HTTPServer) -> dict[str, list[dict[str, FeedSummary]]]:
    configs = feeds(site)
    first, second = poll(settings, configs, rounds=2)
    (restarted,) = poll(settings, configs)  # a new ingester: no ETag, only what Kafka kept
    by_name = lambda rows: {s.name: s for s in rows}  # noqa: E731
    return {"runs": [by_name(first), by_name(second), by_name(restarted)]}


def test_first_poll_produces_each_new_item_and_skips_with_reasons(polls: dict[str, Any]) -> None:
    first = polls["runs"][0]
    rss, atom, jsonfeed = first["rss.xml"], first["atom.xml"], first["feed.json"]
    # harbour (page fetched), rail (full content in the feed); gone: 404 page; private: robots
    assert (rss.new, rss.duplicate, rss.skipped, rss.errors) == (2, 0, 1, 1)
    assert rss.reasons["disallowed by robots.txt"] == 1 and rss.reasons["page failed"] == 1
    # harbour again under a tracking URL (duplicate), the German story, the library story
    assert (atom.new, atom.duplicate, atom.skipped) == (1, 1, 1)
    assert atom.reasons["language de"] == 1
    assert (jsonfeed.new, jsonfeed.duplicate) == (1, 0)


def test_bad_feeds_are_reported_and_do_not_stop_the_others(polls: dict[str, Any]) -> None:
    first = polls["runs"][0]
    for name, reason in BAD.items():
        assert first[name].failed, name
        assert reason in (first[name].error or ""), (name, first[name].error)
        assert reason in first[name].line()
    assert not any(first[name].failed for name in GOOD)


def test_second_poll_and_restart_produce_nothing_new(polls: dict[str, Any]) -> None:
    _, second, restarted = polls["runs"]
    assert second["rss.xml"].not_modified  # the ETag answered 304
    for run in (second, restarted):
        assert sum(s.new for s in run.values()) == 0
    # after the restart the RSS feed is read again: every item it had is known, but the
    # missing page, which is tried again
    assert restarted["rss.xml"].duplicate == 3
    assert restarted["rss.xml"].errors == 1
    assert restarted["atom.xml"].duplicate == 3


def test_exactly_the_new_articles_reach_articles_raw_once(
    polls: dict[str, Any], settings: Settings, site: HTTPServer
) -> None:
    produced = articles(settings)
    urls = sorted(a.url or "" for a in produced)
    expected = sorted(
        site.url_for(f"/news/{slug}") for slug in ("harbour", "rail", "library", "bridge")
    )
    assert urls == expected
    assert len({a.article_id for a in produced}) == 4


def test_article_text_is_the_main_text_without_navigation_or_footer(
    polls: dict[str, Any], settings: Settings
) -> None:
    by_slug = {a.url.rsplit("/", 1)[-1]: a for a in articles(settings) if a.url}
    for slug, article in by_slug.items():
        story = STORIES[slug]
        for paragraph in story.paragraphs:
            assert paragraph in article.text, (slug, paragraph)
        for chrome in (NAV, FOOTER, SIDEBAR):
            assert chrome not in article.text
        assert article.title == story.title
        assert article.lang == "en"
        assert article.published_at is not None
        assert article.source in ("rss.xml", "atom.xml", "feed.json")
    assert GERMAN.slug not in by_slug


def test_cli_once_twice_reports_new_then_nothing_new(kafka: Settings, site: HTTPServer) -> None:
    """The issue's check: ``streams ingest URL --once`` twice, on a prefix of its own."""
    env = settings_env(kafka.model_copy(update={"topic_prefix": "ingest-cli."}))
    env["STREAMS_INGEST_HOST_DELAY"] = "0"
    env["STREAMS_INGEST_TIMEOUT"] = "2"
    command = [sys.executable, "-m", "streams", "ingest", "--once"]
    command += [site.url_for("/rss.xml"), site.url_for("/feed.json")]
    runs = [subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)]
    runs.append(subprocess.run(command, env=env, capture_output=True, text=True, timeout=120))
    first, second = (run.stdout.splitlines() for run in runs)
    assert [run.returncode for run in runs] == [0, 0], runs[0].stderr
    assert any(line.startswith("127.0.0.1: 2 new") for line in first), first
    assert any(line.startswith("127.0.0.1: 1 new") for line in first), first
    assert all(" 0 new" in line for line in second), second
    # only failing feeds: exit status 1
    bad = [sys.executable, "-m", "streams", "ingest", "--once", site.url_for("/missing.xml")]
    failed = subprocess.run(bad, env=env, capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1
    assert "HTTP 404" in failed.stdout
