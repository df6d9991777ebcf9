"""The NLP runner: results in order, and a killed NLP process replaced without losing a batch."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from streams.app.runner import EnrichRunner
from streams.records import Article, EnrichedArticle
from streams.settings import Settings


def _articles() -> list[Article]:
    return [
        Article(article_id=f"a{i}", text=f"“Line {i} is open,” Maria Delgado said.")
        for i in range(5)
    ]


async def test_process_runner_keeps_order_and_survives_a_killed_process(tmp_path: Path) -> None:
    runner = EnrichRunner(
        Settings(_env_file=None, data_dir=tmp_path, nlp_processes=2)  # type: ignore[call-arg]
    )
    try:
        first = await runner.enrich(_articles())
        assert [r.article_id for r in first if isinstance(r, EnrichedArticle)] == [
            f"a{i}" for i in range(5)
        ]
        pids = runner.pids()
        assert len(pids) == 2 and os.getpid() not in pids
        os.kill(pids[0], signal.SIGKILL)
        again = await runner.enrich(_articles())
        assert [r.article_id for r in again if isinstance(r, EnrichedArticle)] == [
            f"a{i}" for i in range(5)
        ]
        assert not set(runner.pids()) & {pids[0]}
    finally:
        runner.stop()
