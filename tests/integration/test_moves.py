"""A statement that comes again under another speaker is counted once, under the later one
(issue #17: a rebalance re-enriched an article after the registry had learned the full name,
and both speakers counted the statement)."""

from __future__ import annotations

import asyncio

import pytest

from streams.codec import dumps
from streams.kafka.clients import producer
from streams.readback import Table, counted
from streams.records import Speaker, Stance, Statement
from streams.settings import Settings
from tests.integration.conftest import Worker

pytestmark = pytest.mark.integration
BARE, FULL = "person:novakova", "person:petra-novakova"


def _statement(statement_id: str, speaker_id: str, name: str) -> Statement:
    return Statement(
        statement_id=statement_id,
        article_id="moves-article",
        speaker=Speaker(id=speaker_id, name=name, type="person", mention=name, start=0, end=4),
        cue="said",
        content=f"content of {statement_id}",
        start=10,
        end=30,
        kind="indirect",
        stances=(Stance(target="the bridge", polarity="against", score=-0.5),),
    )


def produce(settings: Settings, *statements: Statement) -> None:
    async def send() -> None:
        client = producer(settings)
        await client.start()
        try:
            for statement in statements:
                await client.send_and_wait(
                    settings.internal_topic("statements-unidentified"),
                    dumps(statement),
                    key=statement.speaker.id.encode(),
                )
        finally:
            await client.stop()

    asyncio.run(send())


def count(table: Table, speaker: str) -> tuple[int, int]:
    state = table.states.get(speaker)
    return (state.summary.statements, state.summary.articles) if state else (0, 0)


def test_a_statement_redelivered_under_another_speaker_counts_once_under_the_later(
    kafka: Settings, worker: Worker
) -> None:
    moved = _statement("moves-1", BARE, "Novakova")
    stays = _statement("moves-2", BARE, "Novakova")
    produce(kafka, moved, stays)
    ids = ["moves-1", "moves-2"]
    before = asyncio.run(counted(kafka, ids, timeout=120))
    assert count(before, BARE) == (2, 1)
    # the article enriched again once the registry knew the full name: one statement moves
    produce(kafka, _statement("moves-1", FULL, "Petra Novakova"), stays)
    after = asyncio.run(
        counted(
            kafka,
            ids,
            timeout=120,
            until=lambda t: t.counted.get("moves-1") == FULL and count(t, BARE)[0] < 2,
        )
    )
    assert count(after, BARE) == (1, 1)
    assert count(after, FULL) == (1, 1)
    assert after.states[BARE].summary.stances["the bridge"].against == 1
    assert after.states[FULL].summary.stances["the bridge"].against == 1
    assert [r.statement_id for r in after.states[FULL].summary.recent] == ["moves-1"]
    # a copy under the later speaker changes nothing: once a statement sent after it (the
    # same article, the same speaker: the same partitions all the way) is counted, the
    # copy has been through
    produce(kafka, _statement("moves-1", FULL, "Petra Novakova"))
    produce(kafka, _statement("moves-3", FULL, "Petra Novakova"))
    again = asyncio.run(counted(kafka, [*ids, "moves-3"], timeout=120))
    assert (count(again, BARE), count(again, FULL)) == ((1, 1), (2, 1))
