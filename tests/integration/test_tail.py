"""`streams tail`: the last N records and exit; `-f` follows; an unknown topic is one line."""

from __future__ import annotations

import asyncio
import os
import pty
import select
import subprocess
import sys
from collections.abc import Iterator

import orjson
import pytest

from streams.kafka.clients import ensure_topics, producer
from streams.settings import Settings
from tests.conftest import ROOT
from tests.integration.conftest import settings_env

pytestmark = pytest.mark.integration
RECORDS = 12
BASE_MS = 1_700_000_000_000


def produce(settings: Settings, numbers: range) -> None:
    """Records {"n": n} to `statements`, spread over its partitions, one millisecond apart."""

    async def main() -> None:
        client = producer(settings)
        await client.start()
        try:
            for n in numbers:
                await client.send_and_wait(
                    settings.topic("statements"),
                    orjson.dumps({"n": n}),
                    key=f"speaker-{n}".encode(),
                    timestamp_ms=BASE_MS + n,
                )
        finally:
            await client.stop()

    asyncio.run(main())


@pytest.fixture(scope="module")
def topic(kafka: Settings) -> Iterator[Settings]:
    settings = kafka.model_copy(update={"topic_prefix": "tail."})
    asyncio.run(ensure_topics(settings))
    produce(settings, range(RECORDS))
    yield settings


def streams_tail(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streams", "tail", *args],
        cwd=ROOT,
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=60,  # without --follow it must end by itself
        check=False,
    )


def numbers(stdout: str) -> list[int]:
    return [orjson.loads(line)["value"]["n"] for line in stdout.splitlines()]


def test_limit_prints_the_last_n_records_and_exits(topic: Settings) -> None:
    assert len({p for p in range(topic.partitions)}) > 1  # the last five span partitions
    result = streams_tail(topic, "statements", "--limit", "5", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert numbers(result.stdout) == [7, 8, 9, 10, 11]
    result = streams_tail(topic, "statements", "--format", "json")
    assert numbers(result.stdout) == list(range(2, 12))  # ten by default


def test_from_beginning_prints_what_is_there_and_exits(topic: Settings) -> None:
    result = streams_tail(topic, "statements", "--from-beginning", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert sorted(numbers(result.stdout)) == list(range(RECORDS))
    result = streams_tail(topic, "statements", "--from-beginning", "-n", "3", "--format", "json")
    assert len(numbers(result.stdout)) == 3


def _lines(fd: int, n: int, timeout: float = 60) -> list[bytes]:
    """``n`` lines from a pipe, read unbuffered (``select`` cannot see a file's buffer)."""
    data = b""
    while data.count(b"\n") < n:
        ready, _, _ = select.select([fd], [], [], timeout)
        assert ready, f"fewer than {n} lines: {data!r}"
        data += os.read(fd, 65536)
    return data.splitlines()


def test_follow_prints_the_last_records_then_the_new_ones(topic: Settings) -> None:
    settings = topic.model_copy(update={"topic_prefix": "tail-follow."})
    asyncio.run(ensure_topics(settings))
    produce(settings, range(3))
    master, slave = pty.openpty()  # stderr on a terminal, stdout a pipe
    proc = subprocess.Popen(
        [sys.executable, "-m", "streams", "tail", "statements", "-f", "-n", "2"],
        cwd=ROOT,
        env=settings_env(settings),
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    try:
        assert proc.stdout is not None
        first = [orjson.loads(line)["value"]["n"] for line in _lines(proc.stdout.fileno(), 2)]
        assert first == [1, 2]
        terminal = b""
        while b"waiting for new records" not in terminal:
            ready, _, _ = select.select([master], [], [], 60)
            assert ready, terminal
            terminal += os.read(master, 1024)
        produce(settings, range(3, 6))
        new = [orjson.loads(line)["value"]["n"] for line in _lines(proc.stdout.fileno(), 3)]
        assert sorted(new) == [3, 4, 5]
    finally:
        proc.terminate()
        proc.wait(30)
        os.close(master)


def test_no_waiting_message_when_stderr_is_not_a_terminal(topic: Settings) -> None:
    result = streams_tail(topic, "statements", "-f", "-n", "1", "--timeout", "1")
    assert result.returncode == 0, result.stderr
    assert numbers(result.stdout) == [RECORDS - 1]
    assert "waiting" not in result.stderr


def test_an_unknown_topic_is_one_line_and_exit_1(topic: Settings) -> None:
    result = streams_tail(topic, "notatopic")
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: no topic 'notatopic' at {topic.broker}"), line
    assert "tail.statements" in line
