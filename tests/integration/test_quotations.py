"""One quote carried by three outlets is one quotation (issue #19), through the whole
pipeline on the real broker: the articles are enriched, their statements counted, and the
worker's API lists the speaker's quotations."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from streams.codec import dumps
from streams.kafka.clients import producer
from streams.records import Article
from streams.settings import Settings
from tests.integration.conftest import Worker
from tests.integration.test_api import get
from tests.integration.test_pipeline import read_topic

pytestmark = pytest.mark.integration

SPEAKER = "person:marta-kowalczyk"
QUOTE = "We will rebuild every bridge on the river before the first snow falls this winter"
# recent days: the timeline keeps 30 days back from the latest bucket of the partition
_TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
DAY1 = _TODAY - timedelta(days=2, hours=-9, minutes=-15)
DAY2 = _TODAY - timedelta(days=1, hours=-17, minutes=-40)
ARTICLES = [
    Article(
        article_id="quotations-wire",
        source="Northern Wire",
        url="https://wire.example/eastbridge/repairs",
        title="Eastbridge council approves repairs",
        published_at=DAY1,
        text="Marta Kowalczyk, the mayor of Eastbridge, spoke to reporters on Monday.\n\n"
        f'"{QUOTE}," Kowalczyk said.\n\nThe council approved the budget by a wide margin.\n',
    ),
    Article(
        article_id="quotations-gazette",
        url="https://www.valley-gazette.example/news/mayor-repairs",
        title="Mayor promises quick repairs",
        published_at=DAY1,
        text="The mayor of Eastbridge, Marta Kowalczyk, addressed the flood damage on Monday.\n\n"
        "“We will rebuild every bridge … before the first snow falls this winter,” Kowalczyk "
        "told residents.\n\nEngineers are expected to start work next month.\n",
    ),
    Article(
        article_id="quotations-radio",
        source="Radio Lake",
        url="https://radio-lake.example/flood",
        title="Flood repairs to begin",
        published_at=DAY2,
        text="Marta Kowalczyk, the mayor of Eastbridge, spoke on the radio on Tuesday.\n\n"
        'Kowalczyk said the town would rebuild every bridge "on the river before the first '
        'snow falls this winter" and asked for patience.\n\nResidents have complained about '
        "detours for weeks.\n",
    ),
]


def produce(settings: Settings, *articles: Article) -> None:
    async def send() -> None:
        client = producer(settings)
        await client.start()
        try:
            for article in articles:
                await client.send_and_wait(
                    settings.topic("articles.raw"), dumps(article), key=article.article_id.encode()
                )
        finally:
            await client.stop()

    asyncio.run(send())


def quotations_when(settings: Settings, done: Any, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    page: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status, body, _ = get(settings, f"/quotations?speaker={SPEAKER}")
        if status == 200:
            page = orjson.loads(body)
            if done(page):
                return page
        time.sleep(1)
    raise AssertionError(f"no answer as expected in {timeout}s; last: {page}")


@pytest.fixture(scope="module")
def quoted(kafka: Settings, worker: Worker) -> dict[str, Any]:
    produce(kafka, *ARTICLES)
    return quotations_when(kafka, lambda page: any(q["occurrences"] >= 3 for q in page["items"]))


def test_three_outlets_carrying_one_quote_give_one_quotation(
    kafka: Settings, quoted: dict[str, Any]
) -> None:
    (quotation,) = [q for q in quoted["items"] if "bridge" in q["text"]]
    assert quotation["speaker_id"] == SPEAKER
    assert (quotation["occurrences"], quotation["articles"]) == (3, 3)
    assert sorted(quotation["sources"]) == ["Northern Wire", "Radio Lake", "valley-gazette.example"]
    assert quotation["text"].startswith("We will rebuild every bridge on the river")
    assert quotation["first_seen"].startswith(DAY1.date().isoformat())
    assert quotation["last_seen"].startswith(DAY2.date().isoformat())
    status, body, _ = get(kafka, f"/speakers/{SPEAKER}")
    speaker = orjson.loads(body)
    assert status == 200 and speaker["quotations"] == quoted["total"] >= 1
    recent = {r["article_id"]: r for r in speaker["recent"]}
    radio = recent["quotations-radio"]
    assert (radio["source"], radio["title"]) == ("Radio Lake", "Flood repairs to begin")
    assert radio["at"].startswith(DAY2.date().isoformat())
    bridge = [r for r in speaker["recent"] if "bridge" in r["content"]]
    assert {r["quotation_id"] for r in bridge} == {quotation["quotation_id"]}


def test_the_statements_topic_carries_each_statements_quotation_id(
    kafka: Settings, quoted: dict[str, Any], validate_wire: Callable[[str, Any], None]
) -> None:
    """A subscriber of ``statements`` gets the quotation id, the same for the three copies,
    the one ``/quotations`` lists, on records that validate against the schema."""
    (quotation,) = [q for q in quoted["items"] if "bridge" in q["text"]]
    ours = {a.article_id for a in ARTICLES}
    bridge = [
        r["value"]
        for r in read_topic(kafka, "statements")
        if r["value"]["article_id"] in ours and "bridge" in r["value"]["content"]
    ]
    assert {s["article_id"] for s in bridge} == ours
    assert {s["quotation_id"] for s in bridge} == {quotation["quotation_id"]}
    for record in read_topic(kafka, "statements"):
        if record["value"]["article_id"] in ours:
            assert record["key"] == record["value"]["speaker"]["id"]
            validate_wire("statement", record["value"])


def test_quotations_page_and_refuse_bad_queries(kafka: Settings, quoted: dict[str, Any]) -> None:
    status, body, _ = get(kafka, f"/quotations?speaker={SPEAKER}&limit=1&sort=occurrences")
    page = orjson.loads(body)
    assert status == 200 and page["total"] == quoted["total"] and len(page["items"]) == 1
    assert page["items"][0]["occurrences"] == 3
    for bad in ("", f"speaker={SPEAKER}&sort=shoe", f"speaker={SPEAKER}&limit=-1"):
        status, body, _ = get(kafka, f"/quotations?{bad}")
        assert status == 400 and orjson.loads(body)["error"], bad


def test_articles_of_two_days_give_two_day_buckets(kafka: Settings, quoted: dict[str, Any]) -> None:
    status, body, _ = get(kafka, f"/speakers/{SPEAKER}/timeline?bucket=day")
    timeline = orjson.loads(body)
    assert status == 200 and (timeline["speaker_id"], timeline["bucket"]) == (SPEAKER, "day")
    days = timeline["items"]
    assert [d["start"][:10] for d in days] == [DAY1.date().isoformat(), DAY2.date().isoformat()]
    # day 1: the wire's and the gazette's quote, where the quotation was first heard, in
    # whatever order the articles came; day 2: the radio's
    assert (days[0]["statements"], days[0]["quotations"]) == (2, 1)
    assert (days[1]["statements"], days[1]["quotations"]) == (1, 0)
    hours = orjson.loads(get(kafka, f"/speakers/{SPEAKER}/timeline")[1])
    assert hours["bucket"] == "hour"
    assert [h["start"][:13] for h in hours["items"]] == [
        DAY1.isoformat()[:13],
        DAY2.isoformat()[:13],
    ]
    assert get(kafka, f"/speakers/{SPEAKER}/timeline?bucket=week")[0] == 400
