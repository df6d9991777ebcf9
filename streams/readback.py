"""The pipeline's results read back from outside the worker, for the demo, the benchmarks
and the tests: articles out of the enrich agent (:func:`collect`), the aggregate from its
changelogs once it holds given statements (:func:`counted`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import click
import orjson
from aiokafka import TopicPartition

from streams.errors import BrokerError, WorkerError
from streams.kafka.clients import consumer, ensure_topics, stop_consumer
from streams.kafka.tail import end_offsets
from streams.records import ArticleLedger, Counted, SpeakerState
from streams.settings import Settings


@dataclass
class Table:
    """The aggregate as its changelogs hold it: each speaker's state (merged ids point to the
    speaker they are), and under which speaker id the statement ledger counts each statement."""

    states: dict[str, SpeakerState]
    counted: dict[str, str]

    def canonical(self, speaker: str) -> str:
        """The speaker ``speaker`` is, after the merges."""
        seen = {speaker}
        while (state := self.states.get(speaker)) is not None and state.merged_into:
            speaker = state.merged_into
            if speaker in seen:
                break
            seen.add(speaker)
        return speaker

    def speakers(self) -> dict[str, SpeakerState]:
        """The speakers, merged ids left out."""
        return {k: s for k, s in self.states.items() if s.merged_into is None}


async def read_until(
    settings: Settings,
    starts: dict[str, dict[int, int]],
    done: Any,
    timeout: float,
    what: str,
    alive: Any = None,
) -> None:
    """Feed records of the given topics (from the given offsets) to ``done`` until it is True."""
    client = consumer(settings)
    await client.start()
    try:
        tps = [TopicPartition(t, p) for t, parts in starts.items() for p in parts]
        client.assign(tps)
        for tp in tps:
            client.seek(tp, starts[tp.topic][tp.partition])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if alive is not None and not alive():
                raise WorkerError(f"the worker exited while waiting for {what}")
            batch = await client.getmany(timeout_ms=250, max_records=1000)
            finished = False
            for records in batch.values():
                for record in records:
                    finished = done(record) or finished
            if finished or done(None):
                return
        raise BrokerError(f"timed out after {timeout:.0f}s waiting for {what}")
    finally:
        await stop_consumer(client)


async def counted(
    settings: Settings,
    statement_ids: Iterable[str],
    timeout: float,
    alive: Any = None,
    until: Callable[[Table], bool] | None = None,
) -> Table:
    """Wait until every statement of ``statement_ids`` is counted in the ``speakers`` table
    (and ``until(table)`` holds, when given); return the table, read from the changelogs.

    A statement is counted once the ledger holds it and the speaker it is counted under (or
    the speaker that id was merged into) has applied the ledger record that counted it (its
    offset is in the speaker's ``applied``).
    """
    wanted = set(statement_ids)
    ledger_t, speakers_t = (
        settings.changelog_topic("statement-ledger"),
        settings.changelog_topic("speakers"),
    )
    entries: dict[str, Counted] = {}
    table = Table(states={}, counted={})
    partitions = {p: 0 for p in range(settings.partitions)}

    def applied(statement_id: str) -> bool:
        entry = entries.get(statement_id)
        if entry is None:
            return False
        state = table.states.get(table.canonical(entry.speaker))
        mark = f"{entry.speaker}@{entry.partition}"
        return state is not None and state.applied.get(mark, -1) >= entry.offset

    def on_state(record: Any) -> bool:
        if record is None:  # once per batch read
            table.counted = {sid: c.speaker for sid, c in entries.items()}
            return all(applied(s) for s in wanted) and (until is None or until(table))
        if record.value is not None:
            if record.topic == ledger_t:
                entries.update(ArticleLedger.model_validate_json(record.value).statements)
            else:
                key = record.key.decode("utf-8")
                table.states[key] = SpeakerState.model_validate_json(record.value)
        return False

    await read_until(
        settings,
        {ledger_t: partitions, speakers_t: partitions},
        on_state,
        timeout,
        "the speakers table",
        alive,
    )
    return table


async def result_offsets(settings: Settings) -> dict[str, dict[int, int]]:
    """Where new results will land on ``articles.enriched`` and ``deadletter``."""
    await ensure_topics(settings)
    enriched_t, dead_t = settings.topic("articles.enriched"), settings.topic("deadletter")
    return {
        enriched_t: await end_offsets(settings, enriched_t),
        dead_t: await end_offsets(settings, dead_t),
    }


async def collect(
    settings: Settings,
    article_ids: Iterable[str],
    starts: dict[str, dict[int, int]],
    timeout: float,
    alive: Any = None,
) -> Table:
    """Wait until every article has come out of the enrich agent (after ``starts``) and
    every statement of those articles is counted in the ``speakers`` table; return the
    table (read from the changelogs).

    A statement is counted once the ledger holds it and the speaker it is counted under (or
    the speaker that id was merged into) has applied the ledger record that counted it (its
    offset is in the speaker's ``applied``).
    """
    dead_t = settings.topic("deadletter")
    waiting = set(article_ids)
    total = len(waiting)
    statement_ids: set[str] = set()
    dead = 0

    def on_result(record: Any) -> bool:
        nonlocal dead
        if record is not None:
            key = record.key.decode("utf-8", "replace") if record.key else None
            if key in waiting:
                waiting.discard(key)
                if record.topic == dead_t:
                    dead += 1
                else:
                    value = orjson.loads(record.value)
                    statement_ids.update(s["statement_id"] for s in value["statements"])
        return not waiting

    await read_until(settings, starts, on_result, timeout, "the enrich agent", alive)
    click.echo(
        f"enriched {total - dead} articles ({dead} dead letters), {len(statement_ids)} statements"
    )
    return await counted(settings, statement_ids, timeout, alive)
