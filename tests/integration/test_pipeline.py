"""Replay → enrich → statements → speakers table, on the real local Kafka."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Callable
from typing import Any

import orjson
import pytest

from streams.codec import dumps
from streams.demo import demo_flow
from streams.kafka.clients import producer, topic_partitions
from streams.kafka.tail import tail
from streams.records import Article, SpeakerSummary
from streams.settings import TOPIC_NAMES, Settings
from tests.conftest import SEED
from tests.integration.conftest import Worker

pytestmark = pytest.mark.integration
Validate = Callable[[str, Any], None]


def read_topic(settings: Settings, topic: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    asyncio.run(tail(settings, topic, records.append, from_beginning=True, idle_timeout=2.0))
    return records


def table(summaries: list[SpeakerSummary]) -> dict[str, tuple[int, int]]:
    return {s.id: (s.statements, s.articles) for s in summaries}


@pytest.fixture(scope="module")
def first_pass(kafka: Settings, worker: Worker) -> list[SpeakerSummary]:
    return asyncio.run(demo_flow(kafka, SEED, timeout=240))


def test_topics_are_created_up_front_with_the_configured_partitions(
    kafka: Settings, worker: Worker
) -> None:
    for name in TOPIC_NAMES:
        partitions = asyncio.run(topic_partitions(kafka, kafka.topic(name)))
        assert len(partitions) == kafka.partitions, name


def test_the_seed_reaches_the_speakers_table(first_pass: list[SpeakerSummary]) -> None:
    by_name = {s.name: s for s in first_pass}
    assert "Abbas Araghchi" in by_name
    araghchi = by_name["Abbas Araghchi"]
    assert araghchi.id == "person:abbas-araghchi"
    assert araghchi.statements >= 5
    assert araghchi.articles == 1
    assert {"Donald Trump", "Vladimir Putin"} <= set(by_name)


def test_enriched_and_statement_records_are_schema_valid_and_keyed(
    kafka: Settings, first_pass: list[SpeakerSummary], validate_wire: Validate
) -> None:
    enriched = read_topic(kafka, "articles.enriched")
    assert enriched
    for record in enriched:
        validate_wire("enriched_article", record["value"])
        assert record["key"] == record["value"]["article_id"]
    statements = read_topic(kafka, "statements")
    partitions_of: dict[str, set[int]] = {}
    for record in statements:
        validate_wire("statement", record["value"])
        assert record["key"] == record["value"]["speaker"]["id"]
        partitions_of.setdefault(record["key"], set()).add(record["partition"])
    # keyed by speaker: each speaker's statements share a partition, like the table's
    assert all(len(p) == 1 for p in partitions_of.values())
    names = {r["value"]["speaker"]["name"] for r in statements}
    assert "Abbas Araghchi" in names


def test_the_speaker_registry_is_shared_through_its_global_table(
    kafka: Settings, first_pass: list[SpeakerSummary], validate_wire: Validate
) -> None:
    entries = read_topic(kafka, kafka.changelog_topic("speaker-registry"))
    for record in entries:
        validate_wire("known_speaker", record["value"])
    known = {r["key"]: r["value"] for r in entries}
    assert known["person:abbas-araghchi"]["name"] == "Abbas Araghchi"
    assert "Araghçi" in known["person:abbas-araghchi"]["aliases"]


def test_replaying_again_changes_nothing(kafka: Settings, first_pass: list[SpeakerSummary]) -> None:
    again = asyncio.run(demo_flow(kafka, SEED, timeout=240))
    assert table(again) == table(first_pass)


def test_a_worker_restart_neither_loses_nor_double_counts(
    kafka: Settings, worker: Worker, first_pass: list[SpeakerSummary]
) -> None:
    worker.stop()
    worker.start()
    after = asyncio.run(demo_flow(kafka, SEED, timeout=240))
    assert table(after) == table(first_pass)
    with urllib.request.urlopen(
        f"http://127.0.0.1:{kafka.web_port}/speakers?limit=1000", timeout=10
    ) as response:
        served = orjson.loads(response.read())["items"]
    assert {s["id"]: (s["statements"], s["articles"]) for s in served} == table(first_pass)


def test_garbage_goes_to_the_dead_letters_and_the_stream_goes_on(
    kafka: Settings, first_pass: list[SpeakerSummary], validate_wire: Validate
) -> None:
    async def produce() -> None:
        client = producer(kafka)
        await client.start()
        try:
            await client.send_and_wait(
                kafka.topic("articles.raw"), b"\x00\xffgarbage", key=b"garbage-1"
            )
            good = Article(article_id="after-garbage", text="“It works,” Lena Okafor said.")
            await client.send_and_wait(
                kafka.topic("articles.raw"), dumps(good), key=b"after-garbage"
            )
        finally:
            await client.stop()

    asyncio.run(produce())

    def found() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        dead = [r for r in read_topic(kafka, "deadletter") if r["key"] == "garbage-1"]
        good = [r for r in read_topic(kafka, "articles.enriched") if r["key"] == "after-garbage"]
        return dead, good

    dead, good = found()
    for _ in range(30):
        if dead and good:
            break
        dead, good = found()
    assert dead and good
    letter = dead[0]["value"]
    validate_wire("dead_letter", letter)
    assert letter["topic"] == kafka.topic("articles.raw")
    assert letter["stage"] == "decode"
    assert letter["offset"] is not None and letter["partition"] is not None
    assert orjson.loads(orjson.dumps(good[0]["value"]))["statements"]


def test_the_ledger_and_the_tallies_are_on_their_topics(
    kafka: Settings, first_pass: list[SpeakerSummary], validate_wire: Validate
) -> None:
    statements = {r["value"]["statement_id"] for r in read_topic(kafka, "statements")}
    ledger = read_topic(kafka, kafka.changelog_topic("statement-ledger"))
    counted: set[str] = set()
    for record in ledger:
        validate_wire("article_ledger", record["value"])
        counted.update(record["value"]["statements"])
    assert counted == statements
    tallies = read_topic(kafka, kafka.internal_topic("speaker-tallies"))
    assert tallies
    for record in tallies:
        validate_wire("tally", record["value"])
        tally = record["value"]
        # a tally goes to the speaker it is for; an absorb to the speaker it is merged into
        assert record["key"] == (tally["into"] if tally["op"] == "absorb" else tally["speaker"])
    for record in read_topic(kafka, kafka.changelog_topic("speakers")):
        validate_wire("speaker_state", record["value"])
    config = asyncio.run(topic_config(kafka, kafka.changelog_topic("statement-ledger")))
    assert set(config["cleanup.policy"].split(",")) == {"compact", "delete"}
    assert int(config["retention.ms"]) == int(kafka.dedupe_retention * 1000)


async def topic_config(settings: Settings, topic: str) -> dict[str, str]:
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    admin = AIOKafkaAdminClient(bootstrap_servers=settings.broker)
    await admin.start()
    try:
        (response,) = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)]
        )
    finally:
        await admin.close()
    ((_, _, _, _, entries),) = response.resources
    return {entry[0]: entry[1] for entry in entries}
