"""``GET /statements/stream``: Server-Sent Events of new statements, read from the topic.

Each open stream holds a Kafka consumer, so streams are bounded: ``STREAMS_STREAM_LIMIT`` per
worker (503 beyond) and ``STREAMS_STREAM_LIMIT_PER_CLIENT`` per client address (429 beyond).
A stream whose client has gone is closed within about a second: the connection is checked at
every poll, and a comment is written whenever nothing was for ``HEARTBEAT_SECONDS``, however
many statements the ``speaker`` filter passes over (a proxy between the two keeps its
upstream connection open until a write fails).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from aiohttp import web
from aiokafka import TopicPartition

from streams.app.responses import problem
from streams.kafka.clients import consumer, stop_consumer, topic_partitions

if TYPE_CHECKING:
    from streams.app.parts import StreamsApp

HEARTBEAT_SECONDS = 5.0
#: Bounds of what ``Last-Event-ID`` may name; anything else in it is ignored.
_MAX_PARTITION = 1 << 20
_MAX_OFFSET = (1 << 63) - 1


def parse_event_id(value: str | None) -> dict[int, int]:
    """``"0-13.1-5"`` → ``{0: 13, 1: 5}`` (partition → next offset); junk gives ``{}``."""
    positions: dict[int, int] = {}
    for part in (value or "")[:4096].split("."):
        partition, sep, offset = part.partition("-")
        if not (sep and partition.isdigit() and offset.isdigit()):
            continue
        if len(partition) > 7 or len(offset) > 19:
            continue
        p, o = int(partition), int(offset)
        if p < _MAX_PARTITION and o <= _MAX_OFFSET:
            positions[p] = o
    return positions


def format_event_id(positions: dict[int, int]) -> str:
    return ".".join(f"{p}-{o}" for p, o in sorted(positions.items()))


class Streams:
    """The event streams open on this worker, in all and per client address."""

    def __init__(self) -> None:
        self.open = 0
        self.by_client: Counter[str] = Counter()

    def refusal(self, parts: StreamsApp, client: str) -> web.Response | None:
        settings = parts.settings
        if self.open >= settings.stream_limit:
            return problem(503, f"{self.open} event streams open (STREAMS_STREAM_LIMIT)")
        if self.by_client[client] >= settings.stream_limit_per_client:
            return problem(
                429,
                f"{self.by_client[client]} event streams open from {client} "
                "(STREAMS_STREAM_LIMIT_PER_CLIENT)",
                {"Retry-After": "5"},
            )
        return None

    @contextlib.contextmanager
    def held(self, parts: StreamsApp, client: str) -> Iterator[None]:
        self.open += 1
        self.by_client[client] += 1
        parts.metrics.event_streams = self.open
        try:
            yield
        finally:
            self.open -= 1
            self.by_client[client] -= 1
            if self.by_client[client] <= 0:
                del self.by_client[client]
            parts.metrics.event_streams = self.open


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def statement_stream(
    parts: StreamsApp, request: web.Request, streams: Streams
) -> web.StreamResponse:
    settings = parts.settings
    client = request.remote or "unknown"
    refused = streams.refusal(parts, client)
    if refused is not None:
        return refused
    speaker = request.query.get("speaker")
    resume = parse_event_id(
        request.headers.get("Last-Event-ID") or request.query.get("last_event_id")
    )
    topic = settings.topic("statements")
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    with streams.held(parts, client):
        reader = consumer(settings)
        try:
            await reader.start()
            tps = [
                TopicPartition(topic, p) for p in sorted(await topic_partitions(settings, topic))
            ]
            reader.assign(tps)
            await reader.seek_to_end(*tps)
            ends = await reader.end_offsets(tps)
            begins = await reader.beginning_offsets(tps)
            for tp in tps:
                if tp.partition in resume:
                    # a position outside the partition resumes at its nearer end
                    reader.seek(tp, min(max(resume[tp.partition], begins[tp]), ends[tp]))
            positions = {tp.partition: await reader.position(tp) for tp in tps}
            await response.prepare(request)
            await response.write(b"retry: 3000\n: connected\n\n")
            written = time.monotonic()
            while not _gone(request):
                batch = await reader.getmany(timeout_ms=1000, max_records=200)
                for tp, records in batch.items():
                    for record in records:
                        positions[tp.partition] = record.offset + 1
                        key = record.key.decode("utf-8", "replace") if record.key else None
                        if speaker and key != speaker:
                            continue
                        data = (record.value or b"{}").replace(b"\n", b" ")
                        event = f"id: {format_event_id(positions)}\nevent: statement\ndata: "
                        await response.write(event.encode() + data + b"\n\n")
                        written = time.monotonic()
                if time.monotonic() - written >= HEARTBEAT_SECONDS:
                    await response.write(b": keep-alive\n\n")
                    written = time.monotonic()
        except (ConnectionResetError, asyncio.CancelledError):
            pass  # the client went away, or the worker stops
        finally:
            with contextlib.suppress(Exception):
                await stop_consumer(reader)
    return response
