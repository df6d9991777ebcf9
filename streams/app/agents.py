"""The agents: thin adapters that receive, call a pure function, and send.

Errors are caught per event (or per batch member) and routed to ``deadletter`` with topic,
partition and offset; the stream goes on. Nothing may escape the loop: Faust acknowledges a
whole batch when its agent raises, and would commit past every article in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

from aiokafka.errors import KafkaError
from faust.exceptions import NotReady

from streams.app import timeline
from streams.app.aggregate import apply_tally
from streams.app.deadletter import dead_letter
from streams.app.ledger import record
from streams.app.publish import Outputs, PublishError, encode, publish
from streams.app.quotations import count, counted
from streams.app.tables import OneRead
from streams.app.versions import claim
from streams.codec import dumps, loads, loads_json
from streams.errors import InputError, ProcessingError, RecordError, StreamsError
from streams.kafka.clients import MAX_MESSAGE_BYTES
from streams.limits import check_article
from streams.records import (
    Article,
    ArticleLedger,
    DeadLetter,
    SpeakerState,
    Statement,
    Tally,
    utcnow,
)

if TYPE_CHECKING:
    import faust
    from faust.streams import Stream
    from faust.types import StreamT

    from streams.app.parts import StreamsApp

log = logging.getLogger(__name__)


async def send_dead_letter(
    parts: StreamsApp, event: faust.EventT[bytes], error: BaseException | str, stage: str
) -> None:
    """Publish one failed event to ``deadletter``, keyed like the original, and wait for it.

    The event's offset may be committed once this returns, so it returns only once the
    broker has the letter: while it cannot (the broker away), it tries again, with a growing
    pause, and the partition waits (the watchdog reports it as stalled).
    """
    message = event.message
    letter: DeadLetter = dead_letter(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        payload=message.value,
        error=error,
        stage=stage,
        limit=parts.settings.deadletter_payload_bytes,
    )
    value = dumps(letter)
    pause = 0.5
    while True:
        try:
            await (await parts.deadletter.send(key=message.key, value=value))
            break
        except Exception as exc:  # any producer or broker error: the letter must get out
            log.warning(
                "dead letter for topic=%s partition=%s offset=%s not published (%r); "
                "trying again in %.1fs",
                message.topic,
                message.partition,
                message.offset,
                exc,
                pause,
            )
            await asyncio.sleep(pause)
            pause = min(pause * 2, 30.0)
    parts.metrics.dead_letters[stage] += 1


def decode_article(parts: StreamsApp, value: bytes | None, key: bytes | None = None) -> Article:
    """Decode one ``articles.raw`` message, applying the size limits."""
    if key is not None and len(key) > parts.settings.max_key_bytes:
        raise RecordError(
            f"the message key has {len(key)} bytes, over the limit of "
            f"{parts.settings.max_key_bytes} (STREAMS_MAX_KEY_BYTES)"
        )
    if value is None:
        raise InputError("empty message (no value)")
    return check_article(loads(Article, value), max_chars=parts.settings.max_article_chars)


class Conflict(InputError):
    """The article's id was already used for another text."""


def admit(parts: StreamsApp, event: faust.EventT[bytes]) -> Article:
    """The event's article, decoded, within the limits, and its id claimed for its text."""
    message = event.message
    article = decode_article(parts, message.value, message.key)
    reason = claim(parts.versions, article)
    if reason is not None:
        raise Conflict(reason)
    return article


_background: set[asyncio.Future[Any]] = set()


def _write_global(parts: StreamsApp, table: faust.Table[str, Any], key: str, value: Any) -> None:
    """Write one entry of a global table, for every worker to read.

    A global table partitions its changelog writes by key from the producer's metadata,
    which knows the changelog topic only once it has asked for it; right after a start the
    first write can fail. The registry is an aid to matching, so the failure is logged, the
    metadata fetched in the background, and the article goes on (the speaker is offered to
    the registry again with its next statement, a merge found again at the next start).
    """
    try:
        table[key] = value
    except Exception as exc:
        log.warning("%s not written to %s yet: %r", key, table.name, exc)
        changelog = getattr(table, "changelog_topic", None)
        with contextlib.suppress(NotReady):
            producer = cast(Any, parts.app.producer)._ensure_producer()
            if changelog is not None:
                task = asyncio.ensure_future(producer.partitions_for(changelog.get_topic_name()))
                _background.add(task)
                task.add_done_callback(_background.discard)


async def learn_global_changelogs(parts: StreamsApp, timeout: float = 30.0) -> None:
    """Have the producer learn the partitions of the global tables' changelogs at start,
    so that the first writes to them (a new speaker, a merge) do not fail as
    :func:`_write_global` describes."""
    deadline = time.monotonic() + timeout
    topics = [t.changelog_topic.get_topic_name() for t in (parts.registry_table, parts.aliases)]
    while True:
        try:
            producer = cast(Any, parts.app.producer)._ensure_producer()
            for topic in topics:
                await producer.partitions_for(topic)
            return
        except (NotReady, KafkaError) as exc:
            if time.monotonic() > deadline:
                log.warning("the producer does not know %s yet: %r", ", ".join(topics), exc)
                return
            await asyncio.sleep(0.5)


async def publish_merges(parts: StreamsApp) -> None:
    """Send the merges the registry recorded: to the alias table every worker reads, to
    ``speaker.merges`` for subscribers, and, as tallies, to the aggregate."""
    registry = parts.registry_if_built()
    if registry is None:
        return
    for merge in registry.take_merges():
        log.info("speaker %s is %s now (%s)", merge.id, merge.into, merge.reason)
        _write_global(parts, parts.aliases, merge.id, dumps(merge))
        await parts.merges.send(key=merge.id.encode(), value=dumps(merge))
        tally = Tally(
            op="merge", speaker=merge.id, into=merge.into, name=merge.name, type=merge.type
        )
        await parts.tallies.send(key=merge.id.encode(), value=dumps(tally))
        parts.metrics.speakers_merged += 1


def enrich_agent(parts: StreamsApp) -> Callable[[StreamT[bytes]], Awaitable[None]]:
    """``articles.raw`` → ``articles.enriched`` + ``statements`` (+ ``deadletter``)."""
    settings = parts.settings

    async def enrich(stream: StreamT[bytes]) -> None:
        async for events in cast("Stream[bytes]", stream).take_events(
            settings.batch_size, within=settings.batch_timeout
        ):
            batch: list[tuple[faust.EventT[bytes], Article]] = []
            for event in events:
                try:
                    batch.append((event, admit(parts, event)))
                except InputError as exc:
                    await send_dead_letter(parts, event, exc, _stage(exc))
            if not batch:
                continue
            try:
                results = await parts.runner.enrich([article for _, article in batch])
            except Exception as exc:  # the executor itself failed: every member is a dead letter
                log.exception("enrichment batch of %d failed", len(batch))
                results = [ProcessingError(f"enrichment runner failed: {exc!r}")] * len(batch)
            parts.metrics.batches_enriched += 1
            registry = parts.registry()
            ready: list[Outputs] = []
            for (event, _), result in zip(batch, results, strict=True):
                if isinstance(result, StreamsError):
                    await send_dead_letter(parts, event, result, "enrich")
                    continue
                # speakers across articles: match the known ones, publish what is new, under
                # the ids the speakers go by now (merges followed)
                try:
                    result, learned = registry.apply(result)
                    result = registry.goes_by(result)
                except Exception as exc:  # a bug here must not take the batch with it
                    log.exception("speaker matching failed for %s", result.article_id)
                    failure = ProcessingError(f"speaker matching failed: {exc!r}")
                    await send_dead_letter(parts, event, failure, "enrich")
                    continue
                for entry in learned:
                    _write_global(parts, parts.registry_table, entry.id, dumps(entry))
                try:
                    ready.append(encode(event, result, limit=MAX_MESSAGE_BYTES))
                except PublishError as exc:
                    await send_dead_letter(parts, event, exc, "produce")
            for outputs, error in await publish(parts, ready):
                if error is not None:
                    await send_dead_letter(parts, outputs.event, error, "produce")
                    continue
                parts.metrics.articles_enriched += 1
                parts.metrics.statements_published += len(outputs.statements)
                produced = outputs.event.message.timestamp  # seconds (Faust divides Kafka's ms)
                if produced:
                    parts.metrics.latency.observe(max(0.0, time.time() - produced))
            await publish_merges(parts)

    return enrich


def _stage(exc: InputError) -> str:
    if isinstance(exc, Conflict):
        return "conflict"
    return "validate" if isinstance(exc, RecordError) else "decode"


def route_agent(parts: StreamsApp) -> Callable[[StreamT[bytes]], Awaitable[None]]:
    """``statements`` → the article-keyed statement topic, where the ledger reads them.

    Only the article id is read here; the statement is validated by the ledger.
    """

    async def route(stream: StreamT[bytes]) -> None:
        async for event in stream.events():
            value = event.message.value or b""
            try:
                article = loads_json(value).get("article_id")
                if not isinstance(article, str) or not article:
                    raise RecordError("a statement without an article_id")
            except (InputError, AttributeError) as exc:
                await send_dead_letter(parts, event, exc, "aggregate")
                continue
            await parts.by_article.send(key=article.encode(), value=value)

    return route


def ledger_agent(parts: StreamsApp) -> Callable[[StreamT[bytes]], Awaitable[None]]:
    """Article-keyed statements → table ``statement-ledger`` + tallies (key: speaker id)."""
    table = parts.ledger

    async def ledger(stream: StreamT[bytes]) -> None:
        async for event in stream.events():
            message = event.message
            try:
                statement = loads(Statement, message.value or b"")
            except InputError as exc:
                await send_dead_letter(parts, event, exc, "aggregate")
                continue
            key = statement.article_id
            current = table.get(key)
            updated, tallies = record(
                ArticleLedger.model_validate_json(current) if current is not None else None,
                statement,
                partition=message.partition,
                offset=message.offset,
                at=utcnow(),
            )
            if updated is not None:
                table[key] = dumps(updated)
            for tally in tallies:
                await parts.tallies.send(key=tally.speaker.encode(), value=dumps(tally))

    return ledger


def aggregate_agent(parts: StreamsApp) -> Callable[[StreamT[bytes]], Awaitable[None]]:
    """Tallies → table ``speakers``; each applied once, merges followed."""
    settings = parts.settings
    table = parts.speakers

    async def aggregate(stream: StreamT[bytes]) -> None:
        async for event in stream.events():
            try:
                tally = loads(Tally, event.message.value or b"")
                key = (event.message.key or b"").decode()
                if not key:
                    raise RecordError("a tally without a key (the speaker id it goes to)")
            except (InputError, UnicodeDecodeError) as exc:
                await send_dead_letter(parts, event, exc, "aggregate")
                continue
            current = table.get(key)
            state = SpeakerState.model_validate_json(current) if current is not None else None
            now = utcnow()
            step = apply_tally(state, key, tally, recent_limit=settings.recent_limit, at=now)
            if step.state is not None and step.state.merged_into is None and not step.send:
                # the statement counted (or uncounted) here: as a quotation of this speaker
                began = time.perf_counter()
                index, quotations = OneRead(parts.quotation_index), OneRead(parts.quotations)
                quoted = count(index, quotations, key, tally, at=now)
                timeline.record(parts.timeline, key, quoted)
                step.state = counted(step.state, tally, quoted)
                parts.metrics.quotation_seconds += time.perf_counter() - began
            if step.state is not None:
                # reassign, never mutate in place: the table writes its changelog on set
                table[key] = dumps(step.state)
                if tally.op == "add":
                    parts.metrics.statements_counted += 1
            for target, passed in step.send:
                await parts.tallies.send(key=target.encode(), value=dumps(passed))

    return aggregate
