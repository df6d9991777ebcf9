"""The liveness watchdog on a real worker: a partition with records waiting and no progress
is logged, counted, and turns ``/health`` to 503; progress turns it back.

The stall is real: the worker's spaCy process is stopped (SIGSTOP) while articles wait.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from streams.settings import Settings
from streams.sources.replay import replay
from tests.conftest import ROOT
from tests.integration.conftest import Worker, isolated
from tests.integration.test_crash import enriched_count

pytestmark = pytest.mark.integration


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def health(settings: Settings) -> tuple[int, dict[str, Any]]:
    url = f"http://127.0.0.1:{settings.web_port}/health"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def test_a_stalled_partition_is_reported_and_clears(kafka: Settings, tmp_path: Path) -> None:
    settings = isolated(kafka, "stall", tmp_path / "w", stall_timeout=3.0, watchdog_interval=1.0)
    worker = Worker(settings, tmp_path / "worker.log").start()
    try:
        assert worker.proc is not None
        nlp = children(worker.proc.pid)
        assert nlp, "the worker has no spaCy process"
        assert health(settings)[0] == 200
        for pid in nlp:
            os.kill(pid, signal.SIGSTOP)
        try:
            seed = ROOT / "seeds" / "000_c2d9b50d470d0567.txt"
            asyncio.run(replay(settings, [seed], progress=False))
            wait_for(lambda: health(settings)[0] == 503, 60, "/health to report the stall")
            _, body = health(settings)
            assert body["status"] == "stalled" and body["metrics"]["stalled_partitions"] >= 1
            log = worker.log.read_text(encoding="utf-8")
            assert "stalled: topic=stall.articles.raw partition=" in log
            assert enriched_count(settings) == 0
        finally:
            for pid in nlp:
                os.kill(pid, signal.SIGCONT)
        wait_for(lambda: enriched_count(settings) == 1, 60, "the article to be enriched")
        wait_for(lambda: health(settings)[0] == 200, 30, "/health to clear")
    finally:
        worker.stop()
