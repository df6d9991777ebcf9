"""`streams demo`: from nothing it starts its own broker and a worker, and stops both, at its
end, on SIGTERM, SIGHUP and SIGINT alike; it exits 1 with the reason when its worker dies.

No process outlives it: its process tree is read from /proc before the signal, and each one
must be gone after; leftovers are killed by pid in the teardown.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from streams.bench import child_pids, descendants
from streams.broker import LocalKafka
from streams.settings import Settings
from tests.conftest import ROOT
from tests.integration.conftest import isolated, make_settings, settings_env
from tests.integration.test_crash import alive, corpus

pytestmark = pytest.mark.integration


def test_demo_once_prints_the_seed_speakers_and_cleans_up(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, topic_prefix="", app_id="streams-demo")
    assert not LocalKafka(settings).reachable()
    result = subprocess.run(
        [sys.executable, "-m", "streams", "demo", "--once", "--seeds", str(ROOT / "seeds")],
        cwd=ROOT,
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Abbas Araghchi" in result.stdout
    assert "person:abbas-araghchi" in result.stdout
    assert "starting the local Kafka broker" in result.stdout
    # everything it started is stopped again
    assert not LocalKafka(settings).status().running
    assert not LocalKafka(settings).reachable()


class Demo:
    """``streams demo`` (serving) as a child process, its output in files."""

    def __init__(self, settings: Settings, tmp_path: Path, seeds: Path, **popen: Any) -> None:
        self.out = tmp_path / "demo.out"
        self.err = tmp_path / "demo.err"
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streams", "demo", "--seeds", str(seeds)],
                cwd=ROOT,
                env=settings_env(settings),
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                **popen,
            )
        self.seen: set[int] = set()  # every descendant ever seen, for the teardown

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    def tree(self) -> list[int]:
        found = descendants(self.proc.pid)
        self.seen.update(found)
        return found

    def until(self, ready: Callable[[], bool], what: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            assert self.proc.poll() is None, (
                f"the demo exited: {self.stdout()}{self.err.read_text()}"
            )
            assert time.monotonic() < deadline, f"no {what} after {timeout:.0f}s: {self.stdout()}"
            self.tree()
            time.sleep(0.1)

    def worker_pid(self) -> int:
        return int(re.search(r"worker started \(pid (\d+)", self.stdout()).group(1))  # type: ignore[union-attr]

    def with_nlp(self) -> bool:
        """The worker runs and has started its NLP process(es)."""
        return "worker started" in self.stdout() and bool(child_pids(self.worker_pid()))

    def kill_leftovers(self) -> None:
        for pid in [self.proc.pid, *self.seen]:
            if alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)


def survivors(pids: list[int], grace: float = 15.0) -> list[int]:
    """Which of ``pids`` still run after ``grace`` seconds (an NLP process notices within 1 s
    that its worker is gone)."""
    deadline = time.monotonic() + grace
    while (left := [p for p in pids if alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@pytest.fixture()
def demos() -> Iterator[list[Demo]]:
    started: list[Demo] = []
    yield started
    for demo in started:
        demo.kill_leftovers()


def test_sigterm_stops_the_demo_its_worker_and_the_broker_it_started(
    tmp_path: Path, demos: list[Demo]
) -> None:
    settings = make_settings(tmp_path / "data", topic_prefix="", app_id="streams-demo-term")
    broker = LocalKafka(settings)
    assert not broker.reachable()
    try:
        demo = Demo(settings, tmp_path, ROOT / "seeds")
        demos.append(demo)
        demo.until(lambda: "dashboard:" in demo.stdout(), "table")
        tree = demo.tree()
        assert broker.status().pid in tree
        assert demo.worker_pid() in tree
        assert child_pids(demo.worker_pid()), "the worker runs spaCy in a process of its own"
        demo.proc.send_signal(signal.SIGTERM)
        assert demo.proc.wait(120) == 0  # stopping a serving demo is how it ends
        assert "stopped by SIGTERM" in demo.err.read_text()
        assert survivors(tree) == []
        assert not broker.reachable()
    finally:
        broker.stop()


def test_sighup_mid_demo_stops_its_worker_and_exits_129(
    kafka: Settings, tmp_path: Path, demos: list[Demo]
) -> None:
    settings = isolated(kafka, "demo-hup", tmp_path / "data")
    path = tmp_path / "seeds" / "corpus.jsonl"
    path.parent.mkdir()
    corpus(path)  # enough articles that the demo is still waiting when the signal comes
    demo = Demo(settings, tmp_path, path.parent)
    demos.append(demo)
    demo.until(demo.with_nlp, "NLP process")
    tree = demo.tree()
    demo.proc.send_signal(signal.SIGHUP)
    assert demo.proc.wait(120) == 128 + signal.SIGHUP
    assert "speakers; demo took" not in demo.stdout()  # it was stopped mid-way
    # it said which broker it used: one that answered, not one it started
    assert f"using the Kafka broker that answers at {settings.broker}" in demo.stdout()
    assert survivors(tree) == []
    assert LocalKafka(kafka).reachable()  # not its broker: left running


def test_sigint_stops_a_demo_started_with_sigint_ignored(
    kafka: Settings, tmp_path: Path, demos: list[Demo]
) -> None:
    """What a demo started in the background by a shell script gets."""
    settings = isolated(kafka, "demo-int", tmp_path / "data")
    demo = Demo(
        settings,
        tmp_path,
        ROOT / "seeds",
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    demos.append(demo)
    demo.until(lambda: "dashboard:" in demo.stdout(), "table")
    tree = demo.tree()
    assert demo.worker_pid() in tree
    demo.proc.send_signal(signal.SIGINT)
    assert demo.proc.wait(120) == 0
    assert survivors(tree) == []


def test_the_demo_exits_1_with_the_reason_when_its_worker_dies(
    kafka: Settings, tmp_path: Path, demos: list[Demo]
) -> None:
    settings = isolated(kafka, "demo-die", tmp_path / "data")
    demo = Demo(settings, tmp_path, ROOT / "seeds")
    demos.append(demo)
    demo.until(lambda: "dashboard:" in demo.stdout(), "table")
    tree = demo.tree()
    worker = demo.worker_pid()
    os.kill(worker, signal.SIGKILL)
    assert demo.proc.wait(120) == 1
    line = demo.err.read_text().splitlines()[-1]
    assert line.startswith(f"error: the demo's worker (pid {worker}) was killed by SIGKILL")
    assert survivors(tree) == []
