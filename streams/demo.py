"""``streams demo``: broker (if none answers), a worker, a replay of the seeds, the table.

It waits until every replayed article has come out of the enrich agent (on
``articles.enriched`` or ``deadletter``) and every statement of those articles has reached the
``speakers`` table (read from the table's changelog topic), then prints the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import click
import orjson
from aiokafka import TopicPartition

from streams.broker import LocalKafka
from streams.errors import BrokerError
from streams.kafka.clients import consumer, ensure_topics, stop_consumer, wait_for_broker
from streams.kafka.tail import end_offsets
from streams.records import SpeakerState, SpeakerSummary
from streams.settings import Settings
from streams.sources.replay import replay

log = logging.getLogger(__name__)


def changelog_topic(settings: Settings) -> str:
    """Faust names a table's changelog ``<app id>-<table>-changelog``."""
    return f"{settings.app_id}-speakers-changelog"


def is_local(settings: Settings) -> bool:
    return settings.broker.strip() == f"{settings.kafka_host}:{settings.kafka_port}"


def start_worker(
    settings: Settings, log_path: Path, overrides: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``streams worker`` as a child process, logging to ``log_path``; ``overrides`` are
    STREAMS_* variables set for it on top of this process's environment."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "streams", "worker"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(overrides or {})},
        )


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def _read_until(
    settings: Settings,
    starts: dict[str, dict[int, int]],
    done: Any,
    timeout: float,
    what: str,
    alive: Any = None,
) -> None:
    """Feed records of the given topics (from the given offsets) to ``done`` until it is True."""
    client = consumer(settings)
    await client.start()
    try:
        tps = [TopicPartition(t, p) for t, parts in starts.items() for p in parts]
        client.assign(tps)
        for tp in tps:
            client.seek(tp, starts[tp.topic][tp.partition])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if alive is not None and not alive():
                raise BrokerError(f"the worker exited while waiting for {what}")
            batch = await client.getmany(timeout_ms=250, max_records=1000)
            finished = False
            for records in batch.values():
                for record in records:
                    finished = done(record) or finished
            if finished or done(None):
                return
        raise BrokerError(f"timed out after {timeout:.0f}s waiting for {what}")
    finally:
        await stop_consumer(client)


async def result_offsets(settings: Settings) -> dict[str, dict[int, int]]:
    """Where new results will land on ``articles.enriched`` and ``deadletter``."""
    await ensure_topics(settings)
    enriched_t, dead_t = settings.topic("articles.enriched"), settings.topic("deadletter")
    return {
        enriched_t: await end_offsets(settings, enriched_t),
        dead_t: await end_offsets(settings, dead_t),
    }


async def collect(
    settings: Settings,
    article_ids: Iterable[str],
    starts: dict[str, dict[int, int]],
    timeout: float,
    alive: Any = None,
) -> dict[str, SpeakerState]:
    """Wait until every article has come out of the enrich agent (after ``starts``) and
    every statement of those articles is counted in the ``speakers`` table; return the
    table (read from its changelog)."""
    dead_t = settings.topic("deadletter")
    waiting = set(article_ids)
    total = len(waiting)
    statement_ids: set[str] = set()
    dead = 0

    def on_result(record: Any) -> bool:
        nonlocal dead
        if record is not None:
            key = record.key.decode("utf-8", "replace") if record.key else None
            if key in waiting:
                waiting.discard(key)
                if record.topic == dead_t:
                    dead += 1
                else:
                    value = orjson.loads(record.value)
                    statement_ids.update(s["statement_id"] for s in value["statements"])
        return not waiting

    await _read_until(settings, starts, on_result, timeout, "the enrich agent", alive)
    click.echo(
        f"enriched {total - dead} articles ({dead} dead letters), {len(statement_ids)} statements"
    )
    states: dict[str, SpeakerState] = {}
    counted: set[str] = set()
    partitions = {p: 0 for p in range(settings.partitions)}

    def on_state(record: Any) -> bool:
        if record is not None and record.value is not None:
            key = record.key.decode("utf-8")
            states[key] = SpeakerState.model_validate(orjson.loads(record.value))
            counted.update(states[key].statement_ids)
        return statement_ids <= counted

    await _read_until(
        settings,
        {changelog_topic(settings): partitions},
        on_state,
        timeout,
        "the speakers table",
        alive,
    )
    return states


async def demo_flow(
    settings: Settings, seeds: Path, timeout: float, alive: Any = None
) -> list[SpeakerSummary]:
    """Replay ``seeds`` and return the speakers table once it holds their statements."""
    starts = await result_offsets(settings)
    report = await replay(settings, [seeds], progress=False)
    click.echo(f"replayed {report.produced} articles from {seeds}")
    states = await collect(settings, report.article_ids, starts, timeout, alive)
    summaries = [state.summary for state in states.values()]
    return sorted(summaries, key=lambda s: (-s.statements, s.name))


def format_table(summaries: list[SpeakerSummary]) -> str:
    """A plain-text table: name, type, statements, articles, id."""
    rows = [("speaker", "type", "statements", "articles", "id")]
    rows += [(s.name, s.type, str(s.statements), str(s.articles), s.id) for s in summaries]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append(
            "  ".join(
                cell.rjust(w) if i in (2, 3) else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def run_demo(settings: Settings, seeds: Path, *, once: bool, timeout: float) -> int:
    """The whole demo; returns the exit status."""
    started = time.monotonic()
    with broker_for(settings):
        return _demo(settings, seeds, once=once, timeout=timeout, started=started)


@contextlib.contextmanager
def broker_for(settings: Settings) -> Iterator[None]:
    """A broker for the duration of the block: the one at ``STREAMS_BROKER`` if it answers,
    else the local one, started here and stopped on the way out."""
    if asyncio.run(broker_answers(settings)):
        yield
        return
    if not is_local(settings):
        raise BrokerError(f"no broker answers at {settings.broker} (STREAMS_BROKER)")
    click.echo("starting the local Kafka broker ...")
    kafka = LocalKafka(settings)
    kafka.start()
    try:
        yield
    finally:
        kafka.stop()


def _demo(settings: Settings, seeds: Path, *, once: bool, timeout: float, started: float) -> int:
    click.echo(f"broker: {settings.broker}")
    worker_log = settings.data_dir / "logs" / "worker.log"
    worker = start_worker(settings, worker_log)
    click.echo(f"worker started (pid {worker.pid}, log {worker_log})")
    try:
        summaries = asyncio.run(
            demo_flow(settings, seeds, timeout, alive=lambda: worker.poll() is None)
        )
        click.echo("")
        click.echo(format_table(summaries))
        click.echo(f"\n{len(summaries)} speakers; demo took {time.monotonic() - started:.1f}s")
        if not once:
            base = f"http://{settings.web_host}:{settings.web_port}"
            click.echo(
                f"\ndashboard: {base}/   API: {base}/speakers, {base}/statements/stream, "
                f"{base}/metrics, {base}/openapi.json — press Ctrl-C to stop"
            )
            with contextlib.suppress(KeyboardInterrupt):
                worker.wait()
        return 0
    finally:
        stop_process(worker)


async def broker_answers(settings: Settings) -> bool:
    """Whether a broker answers at ``STREAMS_BROKER`` (a refused TCP connection says no
    without letting the Kafka client log a page of connection errors)."""
    host, _, port = settings.broker.split(",")[0].strip().rpartition(":")
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 2.0)
        writer.close()
    except (OSError, ValueError, TimeoutError):
        return False
    try:
        await wait_for_broker(settings, timeout=2.0)
    except BrokerError:
        return False
    return True
