"""The NLP runner: results in order, and a killed NLP process replaced without losing a batch."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from streams.app.runner import EnrichRunner
from streams.records import Article, EnrichedArticle
from streams.settings import Settings


def _articles() -> list[Article]:
    return [
        Article(article_id=f"a{i}", text=f"“Line {i} is open,” Maria Delgado said.")
        for i in range(5)
    ]


def _wait_until_dead(pid: int, timeout: float = 10.0) -> None:
    """A kill is delivered in the kernel's own time: wait until the process is a zombie or gone
    (the pool, its parent, reaps it), so the next batch meets a dead process, not a dying one."""
    deadline = time.monotonic() + timeout
    stat = Path(f"/proc/{pid}/stat")
    while time.monotonic() < deadline:
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return
        if state in ("Z", "X"):
            return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} still running {timeout}s after SIGKILL")


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
        _wait_until_dead(pids[0])
        again = await runner.enrich(_articles())
        assert [r.article_id for r in again if isinstance(r, EnrichedArticle)] == [
            f"a{i}" for i in range(5)
        ]
        assert not set(runner.pids()) & {pids[0]}
    finally:
        runner.stop()
