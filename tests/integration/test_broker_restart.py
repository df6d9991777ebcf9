"""Stop and restart the broker during a stream: the worker reconnects and nothing is lost."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from streams.broker import LocalKafka
from streams.readback import collect, result_offsets
from streams.sources.replay import replay
from tests.integration.conftest import Worker, make_settings
from tests.integration.test_crash import ARTICLES, corpus, counted_once, wait_for_progress

pytestmark = pytest.mark.integration


def test_the_worker_survives_a_broker_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", topic_prefix="", app_id="streams-restart")
    broker = LocalKafka(settings)
    broker.start()
    worker = Worker(settings, tmp_path / "worker.log")
    try:
        path = tmp_path / "corpus.jsonl"
        ids = corpus(path)[: ARTICLES // 2]
        path.write_text("\n".join(path.read_text().splitlines()[: len(ids)]) + "\n")
        worker.start()
        starts = asyncio.run(result_offsets(settings))
        asyncio.run(replay(settings, [path], progress=False))
        done_at_stop = wait_for_progress(settings, len(ids) // 4)
        stopped = time.monotonic()
        broker.stop()
        time.sleep(2)
        broker.start()
        print(
            f"broker stopped at {done_at_stop}/{len(ids)} enriched, "
            f"down for {time.monotonic() - stopped:.1f}s"
        )
        assert done_at_stop < len(ids), "the stream had ended before the broker stopped"
        table = asyncio.run(collect(settings, ids, starts, timeout=240))
        assert worker.proc is not None and worker.proc.poll() is None
        assert sum(s.summary.statements for s in table.speakers().values()) > len(ids)
        assert counted_once(table)
    finally:
        worker.stop()
        broker.stop()
