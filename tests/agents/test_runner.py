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


def test_a_pool_left_with_its_task_queue_lock_taken_is_stopped_not_waited_on(
    tmp_path: Path,
) -> None:
    """An idle NLP process waits for work holding the pool's task queue lock; killed there, it
    leaves the lock taken for good and the others never read their shutdown request. Here the
    test takes the lock itself (while both processes are busy, so neither holds it): a stop
    must kill what it cannot shut down rather than wait on it forever."""
    import threading
    from concurrent.futures import ProcessPoolExecutor

    runner = EnrichRunner(
        Settings(_env_file=None, data_dir=tmp_path, nlp_processes=2),  # type: ignore[call-arg]
        stop_timeout=1.0,
    )
    runner.warm()
    executor = runner._executor
    assert isinstance(executor, ProcessPoolExecutor)
    pids = runner.pids()
    busy = [executor.submit(time.sleep, 1.5) for _ in range(2)]
    time.sleep(0.5)  # both taken up, neither waiting on the queue
    lock = executor._call_queue._rlock  # type: ignore[attr-defined]
    assert lock.acquire(timeout=10), "an NLP process kept the task queue lock"
    try:
        for future in busy:
            future.result(timeout=30)
        stopping = threading.Thread(target=runner.stop, daemon=True)
        stopping.start()
        stopping.join(60)
        assert not stopping.is_alive(), "the stop waited on processes that cannot stop"
        for pid in pids:
            _wait_until_dead(pid)
    finally:
        lock.release()


def _start_nlp_process(settings_json: str, parent: int) -> None:
    """What an NLP process runs first, then as long as it lives."""
    import time

    from streams.app.runner import _init

    _init(settings_json, parent)
    time.sleep(120)


def test_an_nlp_process_whose_worker_is_gone_before_it_started_exits(tmp_path: Path) -> None:
    """The worker stopped (a demo's SIGTERM) while its NLP process was still starting."""
    import multiprocessing
    import subprocess

    gone = subprocess.Popen(["true"])
    gone.wait()
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    process = multiprocessing.get_context("spawn").Process(
        target=_start_nlp_process, args=(settings.model_dump_json(), gone.pid)
    )
    process.start()
    process.join(30)
    try:
        assert process.exitcode == 0, "the NLP process outlived its worker"
    finally:
        process.kill()
