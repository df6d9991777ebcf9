"""``streams demo``: broker (if none answers), a worker, a replay of the seeds, the table.

It waits until every replayed article has come out of the enrich agent (on
``articles.enriched`` or ``deadletter``) and every statement of those articles has reached the
``speakers`` table (read from the table's changelog topic), then prints the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from streams.broker import LocalKafka
from streams.errors import BrokerError, WorkerError
from streams.kafka.clients import no_broker, reachable, wait_for_broker
from streams.ports import check_free
from streams.readback import collect, result_offsets
from streams.records import SpeakerSummary
from streams.settings import Settings
from streams.sources.replay import replay
from streams.workers import start_worker, stop_process

log = logging.getLogger(__name__)


def is_local(settings: Settings) -> bool:
    return settings.broker.strip() == f"{settings.kafka_host}:{settings.kafka_port}"


async def demo_flow(
    settings: Settings, seeds: Path, timeout: float, alive: Any = None
) -> list[SpeakerSummary]:
    """Replay ``seeds`` and return the speakers table once it holds their statements."""
    starts = await result_offsets(settings)
    report = await replay(settings, [seeds], progress=False)
    for error in report.errors:
        click.echo(f"  skipped: {error}", err=True)
    click.echo(f"replayed {report.produced} articles from {seeds}")
    table = await collect(settings, report.article_ids, starts, timeout, alive)
    summaries = [state.summary for state in table.speakers().values()]
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


class Stopped(KeyboardInterrupt):
    """A signal asked the demo to stop. A KeyboardInterrupt, so that nothing on the way
    swallows it before the clean-up runs: no ``except Exception``, and asyncio re-raises it
    from a callback where it would only log another exception."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


#: Stop the demo, and everything it started, on any of these.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


@contextlib.contextmanager
def stopped_by_signals() -> Iterator[None]:
    """Within the block, SIGTERM, SIGHUP and SIGINT raise :class:`Stopped` in the main thread,
    so the ``finally`` clauses that stop the worker and the broker run.

    SIGINT is set here too: a program started in the background by a shell script begins with
    SIGINT ignored, and Python then installs no handler of its own. Once one signal has
    arrived, the others are noted and ignored, so that a second one (a closing terminal sends
    SIGHUP, then a supervisor SIGTERM) cannot cut the clean-up short.
    """
    stopping: list[int] = []

    def handler(signum: int, frame: object) -> None:
        if stopping:
            log.info("already stopping; %s ignored", signal.Signals(signum).name)
            return
        stopping.append(signum)
        raise Stopped(signum)

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_demo(settings: Settings, seeds: Path, *, once: bool, timeout: float) -> int:
    """The whole demo; returns the exit status: 0, 1 with a :class:`StreamsError` raised, or
    128 + the signal's number when a signal stopped it before it was serving."""
    started = time.monotonic()
    # a worker already serving on the port (a stray one) would answer for the demo's own
    check_free(settings.web_host, settings.web_port, "STREAMS_WEB_PORT")
    try:
        with stopped_by_signals(), broker_for(settings):
            return _demo(settings, seeds, once=once, timeout=timeout, started=started)
    except Stopped as stop:
        click.echo(
            f"demo: stopped by {stop} before it was done; what it started is stopped", err=True
        )
        return 128 + stop.signum


@contextlib.contextmanager
def broker_for(settings: Settings) -> Iterator[None]:
    """A broker for the duration of the block: the one at ``STREAMS_BROKER`` if it answers,
    else the local one, started here and stopped on the way out (a signal included)."""
    if asyncio.run(broker_answers(settings)):
        click.echo(
            f"broker: using the Kafka broker that answers at {settings.broker} "
            "(STREAMS_BROKER); the project's topics are created there if missing"
        )
        yield
        return
    if not is_local(settings):
        raise no_broker(settings, "and it is not the local broker's address, so none is started")
    click.echo(f"broker: starting the local Kafka broker at {settings.broker} ...")
    kafka = LocalKafka(settings)
    try:
        kafka.start()  # inside the try: a signal while it starts still stops it
        yield
    finally:
        kafka.stop()


def _worker_gone(worker: subprocess.Popen[bytes], log_path: Path) -> WorkerError:
    """Why the demo's own worker is gone: its exit status and its last error line."""
    reason = ""
    with contextlib.suppress(OSError):
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        errors = [line for line in lines[-200:] if line.startswith("error: ")]
        reason = f": {errors[-1][len('error: ') :]}" if errors else ""
    status = worker.returncode
    how = f"was killed by {signal.Signals(-status).name}" if status < 0 else f"exited ({status})"
    return WorkerError(f"the demo's worker (pid {worker.pid}) {how}{reason}; see {log_path}")


def _demo(settings: Settings, seeds: Path, *, once: bool, timeout: float, started: float) -> int:
    worker_log = settings.data_dir / "logs" / "worker.log"
    worker = start_worker(settings, worker_log)
    try:
        click.echo(f"worker started (pid {worker.pid}, log {worker_log})")
        try:
            summaries = asyncio.run(
                demo_flow(settings, seeds, timeout, alive=lambda: worker.poll() is None)
            )
        except WorkerError:
            raise _worker_gone(worker, worker_log) from None
        if worker.poll() is not None:  # the table is its work only while it runs
            raise _worker_gone(worker, worker_log)
        click.echo("")
        click.echo(format_table(summaries))
        click.echo(f"\n{len(summaries)} speakers; demo took {time.monotonic() - started:.1f}s")
        if not once:
            base = f"http://{settings.web_host}:{settings.web_port}"
            click.echo(
                f"\ndashboard: {base}/   API: {base}/speakers, {base}/statements/stream, "
                f"{base}/metrics, {base}/openapi.json — press Ctrl-C to stop"
            )
            try:
                worker.wait()
            except Stopped as stop:  # how a serving demo ends: not a failure
                click.echo(f"demo: stopped by {stop}; stopping what it started", err=True)
                return 0
            raise _worker_gone(worker, worker_log)
        return 0
    finally:
        stop_process(worker)


async def broker_answers(settings: Settings) -> bool:
    """Whether a broker answers at ``STREAMS_BROKER`` (a refused TCP connection says no
    without letting the Kafka client log a page of connection errors)."""
    if await reachable(settings) is not None:
        return False
    try:
        await wait_for_broker(settings, timeout=2.0)
    except BrokerError:
        return False
    return True
