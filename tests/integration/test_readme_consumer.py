"""The README's Python consumer of ``statements`` runs as written against the real broker:
given a statement on the topic, it prints the speaker, the cue, the content and the URL."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from streams.codec import dumps
from streams.kafka.clients import ensure_topics, producer
from streams.records import Speaker, Statement
from streams.settings import Settings
from tests.conftest import ROOT
from tests.integration.conftest import isolated

pytestmark = pytest.mark.integration


def _example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (block,) = [
        b for b in re.findall(r"```python\n(.*?)```", readme, re.DOTALL) if "statements" in b
    ]
    return block


async def _produce(settings: Settings, statement: Statement) -> None:
    await ensure_topics(settings)
    client = producer(settings)
    await client.start()
    try:
        await client.send_and_wait(
            settings.topic("statements"), dumps(statement), key=statement.speaker.id.encode()
        )
    finally:
        await client.stop()


def test_the_readme_consumer_prints_a_statement(kafka: Settings, tmp_path: Path) -> None:
    settings = isolated(kafka, "readme", tmp_path)
    speaker = Speaker(
        id="person:ana-lima", name="Ana Lima", type="person", mention="Lima", start=0, end=4
    )
    statement = Statement(
        statement_id="readme-1",
        article_id="readme-article",
        speaker=speaker,
        cue="said",
        content="We are ready to talk",
        start=10,
        end=30,
        kind="direct",
        url="https://example.org/talks",
    )
    asyncio.run(_produce(settings, statement))
    code = _example()
    assert '"127.0.0.1:9092"' in code and '"statements"' in code
    code = code.replace('"127.0.0.1:9092"', repr(settings.broker))
    code = code.replace('"statements"', repr(settings.topic("statements")), 1)
    script = tmp_path / "consumer.py"
    script.write_text(code, encoding="utf-8")
    out = tmp_path / "consumer.out"
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, str(script)], stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        expected = "Ana Lima said We are ready to talk https://example.org/talks"
        deadline = time.monotonic() + 60
        while expected not in out.read_text(errors="replace") and time.monotonic() < deadline:
            assert proc.poll() is None, out.read_text(errors="replace")
            time.sleep(0.3)
        assert expected in out.read_text(errors="replace"), out.read_text(errors="replace")
    finally:
        proc.terminate()
        proc.wait(10)
