"""The real Apache Kafka broker for the integration tests, started once per session.

The broker runs on free ports with its data in a temporary folder; its jars come from the
project's cache (``make test`` runs ``streams broker fetch`` first). Settings are passed
explicitly (and to child processes through their environment), never by changing this
process's environment, so unit tests keep their defaults.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.broker import LocalKafka
from streams.errors import WorkerError
from streams.settings import Settings
from streams.workers import start_worker, stop_process, wait_healthy
from tests.conftest import ROOT

pytestmark = pytest.mark.integration
#: The session worker accepts POST /articles with this bearer token.
PUSH_TOKEN = "integration-test-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings_env(settings: Settings) -> dict[str, str]:
    """The STREAMS_* variables that reproduce ``settings`` in a child process."""
    keys = (
        "broker",
        "data_dir",
        "kafka_port",
        "kafka_controller_port",
        "kafka_dist_dir",
        "web_port",
        "topic_prefix",
        "app_id",
        "partitions",
        "session_timeout",
        "batch_timeout",
        "stall_timeout",
        "watchdog_interval",
        "log_level",
        "push_timeout",
        "stream_limit_per_client",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMS_")}
    env.update({f"STREAMS_{k.upper()}": str(getattr(settings, k)) for k in keys})
    if settings.push_token is not None:
        env["STREAMS_PUSH_TOKEN"] = settings.push_token.get_secret_value()
    return env


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    kafka_port = free_port()
    values: dict[str, object] = dict(
        _env_file=None,
        data_dir=data_dir,
        kafka_port=kafka_port,
        kafka_controller_port=free_port(),
        broker=f"127.0.0.1:{kafka_port}",
        kafka_dist_dir=ROOT / ".kafka",
        web_port=free_port(),
        topic_prefix="it.",
        app_id="streams-it",
        batch_timeout=0.2,
        log_level="info",
        session_timeout=10.0,
        push_token=PUSH_TOKEN,
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def isolated(settings: Settings, name: str, data_dir: Path, **overrides: object) -> Settings:
    """``settings`` for a run of its own on the same broker: topics prefixed ``name.``, app
    (consumer group, changelogs) ``streams-name``, a free web port and its own data folder."""
    update: dict[str, object] = {
        "topic_prefix": f"{name}.",
        "app_id": f"streams-{name}",
        "web_port": free_port(),
        "data_dir": data_dir,
        **overrides,
    }
    return settings.model_copy(update=update)


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = make_settings(tmp_path_factory.mktemp("kafka"))
    broker = LocalKafka(settings)
    broker.start()
    try:
        yield settings
    finally:
        broker.stop()


class Worker:
    """``streams worker`` as a child process with the given settings."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self.settings = settings
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        self.proc = start_worker(self.settings, self.log, env=settings_env(self.settings), cwd=ROOT)
        try:
            wait_healthy(self.proc, self.settings.web_port, timeout=120, log_path=self.log)
        except WorkerError as exc:
            self.stop(signal.SIGKILL)  # never leave a worker behind the test
            raise AssertionError(str(exc)) from None
        return self

    def wait_complete(self, timeout: float = 120) -> Worker:
        """Wait until the worker answers ``/speakers`` for every table partition: it has
        joined the group, been assigned its partitions and read them back (a fresh worker
        answers ``partial`` for the seconds that takes, more on a busy machine)."""
        url = f"http://127.0.0.1:{self.settings.web_port}/speakers?limit=1"
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc is not None and self.proc.poll() is None, f"worker exited: {self.log}"
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if not json.loads(response.read()).get("partial"):
                        return self
            except OSError:
                pass
            assert time.monotonic() < deadline, f"{url} still partial after {timeout}s"
            time.sleep(0.5)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None:
            stop_process(self.proc, timeout=60, sig=sig)


@pytest.fixture(scope="session")
def worker(kafka: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    from streams.kafka.clients import ensure_topics

    asyncio.run(ensure_topics(kafka))
    running = Worker(kafka, tmp_path_factory.mktemp("worker") / "worker.log").start()
    try:
        yield running
    finally:
        running.stop()
