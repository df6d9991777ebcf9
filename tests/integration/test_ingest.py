"""``streams ingest`` against a local news site that misbehaves on purpose, on the real Kafka.

Every poll of every feed must account for each of its items once:
``new + duplicate + skipped + errors == items`` (:func:`accounted`).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from pytest_httpserver import HTTPServer

from streams.ids import article_id
from streams.ingest.feeds import FeedConfig, feed
from streams.ingest.ingester import Ingester
from streams.ingest.seen import SeenLog
from streams.ingest.summary import FeedSummary
from streams.kafka.clients import consumer, stop_consumer, topic_partitions
from streams.records import Article
from streams.settings import Settings
from tests.integration.conftest import settings_env
from tests.integration.feed_site import (
    BARE_TEXT,
    FOOTER,
    GERMAN,
    MORE,
    NAV,
    NOTICE_TEXT,
    RUSSIAN,
    SIDEBAR,
    STORIES,
    serve,
)

pytestmark = pytest.mark.integration
TIMEOUT = 0.5


@dataclass(frozen=True)
class Site:
    server: HTTPServer
    items: dict[str, int]  # entries of each feed the site serves

    def url(self, path: str) -> str:
        return self.server.url_for(path)

    def requests(self, path: str) -> int:
        return sum(1 for request, _ in self.server.log if request.path == path)


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    items = serve(server, timeout=TIMEOUT)
    try:
        yield Site(server, items)
    finally:
        server.clear()
        server.stop()


def ingest_settings(kafka: Settings, prefix: str, **values: object) -> Settings:
    update: dict[str, Any] = {
        "topic_prefix": prefix,
        "ingest_timeout": TIMEOUT,
        "ingest_retries": 1,
        "ingest_backoff": 0.05,
        "ingest_host_delay": 0.0,
        "ingest_max_bytes": 100_000,
        "ingest_languages": "en,ru",
        "ingest_item_backoff": 0.0,  # a failed item is tried again at every poll
    }
    update.update(values)
    return kafka.model_copy(update=update)


@pytest.fixture(scope="module")
def settings(kafka: Settings) -> Settings:
    return ingest_settings(kafka, "ingest-it.")


GOOD = ("rss.xml", "atom.xml", "feed.json")
FAULTY = ("php.xml", "bad.json", "bare.xml", "cp1251.xml", "elsewhere.xml", "empty.xml")
BAD = {
    "missing.xml": "HTTP 404",
    "broken.xml": "HTTP 500",
    "slow.xml": "timed out",
    "loop.xml": "redirects",
    "malformed.xml": "malformed feed",
    "not-a-feed.xml": "not a feed",
    "huge.xml": "over the cap",
    "items.json": "items is a number",
}


def feeds(site: Site, names: Iterable[str] = (*GOOD, *FAULTY, *BAD)) -> list[FeedConfig]:
    return [feed(site.url(f"/{name}"), interval=60, name=name) for name in names]


def accounted(summaries: Iterable[FeedSummary]) -> None:
    """Each item of each feed is new, duplicate, skipped or an error, once."""
    for s in summaries:
        assert s.new + s.duplicate + s.skipped + s.errors == s.items, s.line()
        assert s.accounted, s.line()


def poll(settings: Settings, configs: list[FeedConfig], rounds: int = 1) -> list[list[FeedSummary]]:
    async def run() -> list[list[FeedSummary]]:
        async with Ingester(settings) as ingester:
            return [await ingester.run_once(configs) for _ in range(rounds)]

    runs = asyncio.run(run())
    for run_ in runs:
        accounted(run_)
    return runs


def by_name(summaries: list[FeedSummary]) -> dict[str, FeedSummary]:
    return {s.name: s for s in summaries}


def records(settings: Settings, topic: str, *, committed: bool = True) -> list[dict[str, Any]]:
    """Every record of a project topic, as a subscriber reading committed records sees them
    (or, with ``committed=False``, as one reading uncommitted records does)."""

    async def run() -> list[dict[str, Any]]:
        name = settings.topic(topic)
        level = "read_committed" if committed else "read_uncommitted"
        client = consumer(settings, isolation_level=level)
        await client.start()
        try:
            tps = [TopicPartition(name, p) for p in sorted(await topic_partitions(settings, name))]
            client.assign(tps)
            await client.seek_to_beginning(*tps)
            ends = await client.end_offsets(tps)
            out: list[dict[str, Any]] = []
            while [tp for tp in tps if await client.position(tp) < ends[tp]]:
                batch = await client.getmany(timeout_ms=500)
                for batch_records in batch.values():
                    out.extend(
                        {"key": r.key.decode(), "value": orjson.loads(r.value)}
                        for r in batch_records
                    )
            return out
        finally:
            await stop_consumer(client)

    return asyncio.run(run())


def articles(settings: Settings, *, committed: bool = True) -> list[Article]:
    found = records(settings, "articles.raw", committed=committed)
    return [Article.model_validate(r["value"]) for r in found]


@pytest.fixture(scope="module")
def polls(settings: Settings, site: Site) -> list[dict[str, FeedSummary]]:
    configs = feeds(site)
    first, second = poll(settings, configs, rounds=2)
    (restarted,) = poll(settings, configs)  # a new ingester: no ETag, only what Kafka kept
    return [by_name(first), by_name(second), by_name(restarted)]


def counts(s: FeedSummary) -> tuple[int, int, int, int]:
    return s.new, s.duplicate, s.skipped, s.errors


def test_every_item_of_every_feed_the_site_serves_is_accounted_for(
    polls: list[dict[str, FeedSummary]], site: Site
) -> None:
    first = polls[0]
    assert set(site.items) == {*GOOD, *FAULTY}
    for name, items in site.items.items():
        assert first[name].items == items, first[name].line()
        assert not first[name].failed, first[name].line()
    for run in polls:
        accounted(run.values())
        for name in BAD:
            assert run[name].items == 0


def test_first_poll_produces_each_new_item_and_skips_with_reasons(
    polls: list[dict[str, FeedSummary]],
) -> None:
    first = polls[0]
    rss, atom, jsonfeed = first["rss.xml"], first["atom.xml"], first["feed.json"]
    # harbour (page fetched), rail (full content in the feed); gone: 404 page; private: robots
    assert counts(rss) == (2, 0, 1, 1)
    assert rss.skip_reasons == {"disallowed by robots.txt": 1}
    assert rss.error_reasons == {"page HTTP 404": 1}
    # harbour again under a tracking URL (duplicate), the German story, the library story
    assert counts(atom) == (1, 1, 1, 0)
    assert atom.skip_reasons == {"language de": 1}
    assert counts(jsonfeed) == (1, 0, 0, 0)


def test_dates_no_calendar_holds_cost_only_the_date(
    polls: list[dict[str, FeedSummary]], settings: Settings
) -> None:
    php = polls[0]["php.xml"]
    assert counts(php) == (3, 0, 0, 0)
    assert php.ignored == {"date unreadable": 2}
    dated = {a.url.rsplit("/", 1)[-1]: a.published_at for a in articles(settings) if a.url}
    assert dated["ferry"] is not None
    assert dated["market"] is None and dated["orchard"] is None


def test_json_items_of_wrong_types_are_skipped_one_by_one(
    polls: list[dict[str, FeedSummary]],
) -> None:
    first, second, restarted = (run["bad.json"] for run in polls)
    assert counts(first) == (1, 0, 4, 0)  # the tram story, produced
    assert first.skip_reasons == {
        "invalid JSON item: summary": 1,
        "invalid JSON item: url": 1,
        "invalid JSON item: title": 1,
        "invalid JSON item: a number, not an object": 1,
    }
    for later in (second, restarted):  # the good item was recorded with its production
        assert counts(later) == (0, 1, 4, 0)


def test_items_without_link_or_guid_count_and_a_long_description_is_the_text(
    polls: list[dict[str, FeedSummary]], settings: Settings, site: Site
) -> None:
    first, second, _ = (run["bare.xml"] for run in polls)
    assert counts(first) == (2, 0, 2, 0)
    assert first.skip_reasons == {"empty item": 1, "no usable text": 1}
    assert counts(second) == (0, 3, 1, 0)  # the empty item has nothing to be recorded by
    produced = articles(settings)
    (bare,) = [a for a in produced if a.url is None]
    assert bare.text == BARE_TEXT
    assert bare.article_id == article_id(text=BARE_TEXT)
    # its page is behind robots.txt, but the feed's own description is long enough
    (notice,) = [a for a in produced if a.url == site.url("/private/car-park")]
    assert notice.text == NOTICE_TEXT


def test_an_undeclared_legacy_encoding_is_detected(
    polls: list[dict[str, FeedSummary]], settings: Settings
) -> None:
    assert counts(polls[0]["cp1251.xml"]) == (1, 0, 0, 0)
    (russian,) = [a for a in articles(settings) if a.url and a.url.endswith("/news/most")]
    assert russian.lang == "ru" and russian.title == RUSSIAN.title
    assert russian.text == RUSSIAN.body


def test_unreadable_robots_txt_is_an_error_retried_at_every_poll_not_a_refusal(
    polls: list[dict[str, FeedSummary]],
) -> None:
    for run in polls:
        elsewhere = run["elsewhere.xml"]
        assert counts(elsewhere) == (0, 0, 0, 2), elsewhere.line()
        assert set(elsewhere.error_reasons) <= {"robots.txt unreachable", "robots.txt HTTP 503"}
        assert elsewhere.error_reasons["robots.txt unreachable"] >= 1  # the closed port


def test_a_feed_read_despite_a_fault_is_not_failed(polls: list[dict[str, FeedSummary]]) -> None:
    empty = polls[0]["empty.xml"]
    assert not empty.failed and counts(empty) == (0, 0, 0, 0) and empty.items == 0
    assert empty.warning and "us-ascii" in empty.warning
    assert "read despite" in empty.line() and "failed" not in empty.line()


def test_bad_feeds_are_reported_and_do_not_stop_the_others(
    polls: list[dict[str, FeedSummary]],
) -> None:
    first = polls[0]
    for name, reason in BAD.items():
        assert first[name].failed, name
        assert reason in (first[name].error or ""), (name, first[name].error)
        assert reason in first[name].line()
    assert not any(first[name].failed for name in (*GOOD, *FAULTY))


def test_second_poll_and_restart_produce_nothing_new(
    polls: list[dict[str, FeedSummary]],
) -> None:
    _, second, restarted = polls
    # the ETag answered 304, and the item that failed is still tried again
    assert second["rss.xml"].not_modified
    assert counts(second["rss.xml"]) == (0, 3, 0, 1)
    assert second["rss.xml"].error_reasons == {"page HTTP 404": 1}
    for run in (second, restarted):
        assert sum(s.new for s in run.values()) == 0
    # after the restart the feeds are read again: every item is known, but the missing page
    assert counts(restarted["rss.xml"]) == (0, 3, 0, 1)
    assert restarted["atom.xml"].duplicate == 3
    assert counts(restarted["php.xml"]) == (0, 3, 0, 0)


NEW_SLUGS = ("harbour", "rail", "library", "bridge", "ferry", "market", "orchard", "tram", "most")


def test_exactly_the_new_articles_reach_articles_raw_once(
    polls: list[dict[str, FeedSummary]], settings: Settings, site: Site
) -> None:
    produced = articles(settings)
    assert sorted(a.url or "" for a in produced) == sorted(
        ["", site.url("/private/car-park"), *(site.url(f"/news/{slug}") for slug in NEW_SLUGS)]
    )
    assert len({a.article_id for a in produced}) == len(NEW_SLUGS) + 2
    # and each summary said exactly what it produced
    assert sum(s.new for s in polls[0].values()) == len(produced)


def test_article_text_is_the_main_text_without_navigation_or_footer(
    polls: list[dict[str, FeedSummary]], settings: Settings
) -> None:
    by_slug = {a.url.rsplit("/", 1)[-1]: a for a in articles(settings) if a.url}
    for slug, story in {**STORIES, **MORE}.items():
        article = by_slug[slug]
        for paragraph in story.paragraphs:
            assert paragraph in article.text, (slug, paragraph)
        for chrome in (NAV, FOOTER, SIDEBAR):
            assert chrome not in article.text
        assert article.title == story.title
        assert article.lang == "en"
        assert article.source in (*GOOD, *FAULTY)
    assert by_slug["harbour"].published_at is not None
    assert GERMAN.slug not in by_slug


def test_a_failing_page_is_retried_then_given_up_and_recorded(kafka: Settings, site: Site) -> None:
    settings = ingest_settings(kafka, "ingest-giveup.", ingest_item_attempts=2)
    configs = feeds(site, ["rss.xml"])
    before = site.requests("/news/gone")
    (first,), (second,) = poll(settings, configs, rounds=2)
    (restarted,) = poll(settings, configs)[0]
    assert counts(first) == (2, 0, 1, 1) and first.error_reasons == {"page HTTP 404": 1}
    assert second.not_modified and counts(second) == (0, 3, 1, 0)
    assert second.skip_reasons == {"given up: page HTTP 404": 1}
    assert counts(restarted) == (0, 4, 0, 0)
    assert site.requests("/news/gone") - before == 2
    outcomes = [r["value"] for r in records(settings, "ingest.seen")]
    given_up = [v for v in outcomes if v.get("outcome") == "given up"]
    assert given_up and all(v["reason"] == "page HTTP 404" for v in given_up)
    assert {v["attempts"] for v in given_up} == {2}


def test_a_failed_item_waits_for_its_backoff(kafka: Settings, site: Site) -> None:
    settings = ingest_settings(kafka, "ingest-backoff.", ingest_item_backoff=3600.0)
    before = site.requests("/news/gone")
    (first,), (second,) = poll(settings, feeds(site, ["rss.xml"]), rounds=2)
    assert first.error_reasons == {"page HTTP 404": 1}
    assert second.error_reasons == {"waiting to retry: page HTTP 404": 1}
    assert counts(second) == (0, 3, 0, 1)
    assert site.requests("/news/gone") - before == 1


def test_an_article_whose_record_fails_is_not_produced_and_the_rerun_produces_it_once(
    kafka: Settings, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The article and its record are one transaction: a failure between them aborts both."""
    settings = ingest_settings(kafka, "ingest-txn.")
    configs = feeds(site, ["feed.json"])
    mark = SeenLog._mark
    failures = iter([True])

    async def failing_mark(self: SeenLog, keys: list[str], value: bytes) -> None:
        if next(failures, False):
            raise KafkaError("injected: the broker refused the record")
        await mark(self, keys, value)

    monkeypatch.setattr(SeenLog, "_mark", failing_mark)
    ((failed,),) = poll(settings, configs)
    assert counts(failed) == (0, 0, 0, 1)
    assert failed.error_reasons == {"not recorded (KafkaError)": 1}
    assert articles(settings) == []
    ((rerun,),) = poll(settings, configs)
    assert counts(rerun) == (1, 0, 0, 0)
    (bridge,) = articles(settings)
    assert bridge.url == site.url("/news/bridge")
    # the aborted copy is there for readers of uncommitted records (the worker counts it once)
    assert [a.article_id for a in articles(settings, committed=False)] == [bridge.article_id] * 2


def test_cli_once_names_feeds_by_title_and_tail_prefixes_ingest_seen(
    kafka: Settings, site: Site
) -> None:
    """``streams ingest URL --once`` twice, on a prefix of its own, then ``tail ingest.seen``."""
    env = settings_env(kafka.model_copy(update={"topic_prefix": "ingest-cli."}))
    env["STREAMS_INGEST_HOST_DELAY"] = "0"
    env["STREAMS_INGEST_TIMEOUT"] = "2"
    command = [sys.executable, "-m", "streams", "ingest", "--once"]
    command += [site.url("/rss.xml"), site.url("/feed.json")]
    runs = [subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)]
    runs.append(subprocess.run(command, env=env, capture_output=True, text=True, timeout=120))
    first, second = (run.stdout.splitlines() for run in runs)
    assert [run.returncode for run in runs] == [0, 0], runs[0].stderr
    assert any(line.startswith("Lakeside Courier: 2 new") for line in first), first
    assert any(line.startswith("Courier JSON: 1 new") for line in first), first
    assert all(" 0 new" in line for line in second), second
    # only failing feeds: exit status 1; the feed is named by its host and path
    bad = [sys.executable, "-m", "streams", "ingest", "--once", site.url("/missing.xml")]
    failed = subprocess.run(bad, env=env, capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1
    host = site.url("/").split("//", 1)[1].rstrip("/")
    assert failed.stdout.startswith(f"{host}/missing.xml: ") and "HTTP 404" in failed.stdout
    tail = [sys.executable, "-m", "streams", "tail", "ingest.seen", "--from-beginning"]
    tail += ["--timeout", "3", "--format", "json"]
    shown = subprocess.run(tail, env=env, capture_output=True, text=True, timeout=120)
    lines = [orjson.loads(line) for line in shown.stdout.splitlines()]
    assert lines and {line["topic"] for line in lines} == {"ingest-cli.ingest.seen"}, shown
    assert {line["value"]["outcome"] for line in lines} >= {"new", "skipped", "error"}
