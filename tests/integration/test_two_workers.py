"""Two workers share the partitions; `kill -9` one mid-stream: the other takes over its
partitions (and their table state) and the table ends complete.

Before the fixes in ``streams/app/faust_fixes.py`` this lost statements in most runs: a
worker committed input offsets while its table writes were still in the producer's buffer,
and the survivor resumed partitions the dead worker had never committed after the records it
had fetched and dropped during recovery, instead of at their first offset.
"""

from __future__ import annotations

import asyncio
import signal
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest

from streams.kafka.tail import end_offsets, tail
from streams.readback import collect, result_offsets
from streams.records import SpeakerState
from streams.settings import Settings
from tests.integration.conftest import Worker, free_port
from tests.integration.test_crash import (
    ARTICLES,
    corpus,
    counted_once,
    replay_in_background,
    wait_for_progress,
)

pytestmark = [pytest.mark.integration, pytest.mark.failover]


def expected_table(
    settings: Settings, starts: dict[str, dict[int, int]], ids: set[str]
) -> dict[str, tuple[int, int]]:
    """speaker id → (statements, articles), from the enriched articles the run published
    (an article redelivered after the kill comes out again, with the same statement ids)."""
    topic = settings.topic("articles.enriched")
    enriched: dict[str, dict[str, str]] = {}  # article id → statement id → speaker id

    def keep(record: dict[str, Any]) -> None:
        if record["key"] in ids:
            value = record["value"]
            enriched[record["key"]] = {
                s["statement_id"]: s["speaker"]["id"] for s in value["statements"]
            }

    ends = asyncio.run(end_offsets(settings, topic))
    asyncio.run(tail(settings, topic, keep, start_offsets=starts[topic], until=ends))
    assert set(enriched) == ids
    statements: dict[str, set[str]] = defaultdict(set)
    articles: dict[str, set[str]] = defaultdict(set)
    for article_id, found in enriched.items():
        for statement_id, speaker_id in found.items():
            statements[speaker_id].add(statement_id)
            articles[speaker_id].add(article_id)
    return {k: (len(statements[k]), len(articles[k])) for k in statements}


def counts(states: dict[str, SpeakerState]) -> dict[str, tuple[int, int]]:
    return {k: (s.summary.statements, s.summary.articles) for k, s in states.items()}


def speakers(worker: Worker) -> dict[str, Any]:
    url = f"http://127.0.0.1:{worker.settings.web_port}/speakers?limit=1000"
    with urllib.request.urlopen(url, timeout=15) as response:
        page: dict[str, Any] = orjson.loads(response.read())
    return page


def test_the_surviving_worker_takes_over(kafka: Settings, tmp_path: Path) -> None:
    settings = kafka.model_copy(update={"topic_prefix": "pair.", "app_id": "streams-pair"})
    first = Worker(
        settings.model_copy(update={"web_port": free_port(), "data_dir": tmp_path / "a"}),
        tmp_path / "a.log",
    )
    second = Worker(
        settings.model_copy(update={"web_port": free_port(), "data_dir": tmp_path / "b"}),
        tmp_path / "b.log",
    )
    path = tmp_path / "corpus.jsonl"
    ids = corpus(path)
    try:
        first.start()
        second.start()
        starts = asyncio.run(result_offsets(settings))
        replaying = replay_in_background(settings, path)
        done_at_kill = wait_for_progress(settings, ARTICLES // 4)
        killed = time.monotonic()
        first.stop(signal.SIGKILL)
        # until the dead worker's session expires its partitions are still assigned to it:
        # the survivor's answer says which partitions it lacks
        during = speakers(second)
        assert during["partial"] is True, during
        assert during["missing_partitions"] and during["missing_workers"]
        replaying.join()
        table = asyncio.run(collect(settings, ids, starts, timeout=300))
        print(
            f"killed one of two workers at {done_at_kill}/{ARTICLES}; the table was "
            f"complete {time.monotonic() - killed:.1f}s later"
        )
        assert done_at_kill < ARTICLES
        assert second.proc is not None and second.proc.poll() is None
        # exactly what the enrich agent published: every statement counted once, under its
        # speaker, and every article once per speaker quoted in it
        assert counts(table.speakers()) == expected_table(settings, starts, set(ids))
        assert counted_once(table)
        after = speakers(second)
        assert "partial" not in after, after
        assert sum(item["statements"] for item in after["items"]) == len(table.counted)
    finally:
        first.stop()
        second.stop()
