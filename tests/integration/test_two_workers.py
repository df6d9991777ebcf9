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
from pathlib import Path

import pytest

from streams.demo import collect, result_offsets
from streams.settings import Settings
from tests.integration.conftest import Worker, free_port
from tests.integration.test_crash import (
    ARTICLES,
    corpus,
    replay_in_background,
    wait_for_progress,
)

pytestmark = [pytest.mark.integration, pytest.mark.failover]


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
        replaying.join()
        states = asyncio.run(collect(settings, ids, starts, timeout=300))
        print(
            f"killed one of two workers at {done_at_kill}/{ARTICLES}; the table was "
            f"complete {time.monotonic() - killed:.1f}s later"
        )
        assert done_at_kill < ARTICLES
        assert second.proc is not None and second.proc.poll() is None
        assert all(len(s.statement_ids) == s.summary.statements for s in states.values())
        assert sum(s.summary.articles for s in states.values()) >= ARTICLES
    finally:
        first.stop()
        second.stop()
