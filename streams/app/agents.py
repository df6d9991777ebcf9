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
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from aiokafka.errors import KafkaError
from faust.exceptions import NotReady

from streams.app import timeline
from streams.app.aggregate import Step, apply_tally
from streams.app.deadletter import dead_letter
from streams.app.ledger import record
from streams.app.publish import Outputs, PublishError, encode, publish
from streams.app.quotations import absorb as absorb_quotation
from streams.app.quotations import count, counted, distinct, identified, tally_mark
from streams.app.tables import OneRead, prefixed
from streams.app.versions import claim
from streams.codec import dumps, loads
from streams.errors import InputError, ProcessingError, RecordError, StreamsError
from streams.kafka.clients import MAX_MESSAGE_BYTES
from streams.limits import check_article
from streams.records import (
    Article,
    ArticleLedger,
    DeadLetter,
    Quotation,
    SpeakerState,
    SpeakerSummary,
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


def quotation_agent(parts: StreamsApp) -> Callable[[StreamT[bytes]], Awaitable[None]]:
    """The worker's speaker-keyed statements → ``statements`` (key: speaker id), each with
    its ``quotation_id``, and the article-keyed statement topic, where the ledger reads them.

    The quotation is identified in the speaker's index (table ``quotation-index``, in the
    speaker's partition, which this topic shares with the speakers table): the first stage
    keyed by speaker, so ``statements`` carries the id to its subscribers.
    """

    async def quotation(stream: StreamT[bytes]) -> None:
        async for event in stream.events():
            try:
                statement = loads(Statement, event.message.value or b"")
            except InputError as exc:
                await send_dead_letter(parts, event, exc, "aggregate")
                continue
            began, cpu = time.perf_counter(), time.thread_time()
            statement = identified(OneRead(parts.quotation_index), statement)
            value = dumps(statement)
            parts.metrics.quotation_seconds += time.perf_counter() - began
            parts.metrics.quotation_cpu_seconds += time.thread_time() - cpu
            await parts.statements.send(key=statement.speaker.id.encode(), value=value)
            await parts.by_article.send(key=statement.article_id.encode(), value=value)

    return quotation


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


def moving(parts: StreamsApp, speaker: str, into: str, partition: int) -> list[Tally]:
    """What goes to ``into`` after the ``absorb`` of ``speaker`` (merged into it): its
    timeline buckets, then its quotations one by one, read from ``speaker``'s partition (a
    range read of its quotations, the kept buckets one lookup each). Each is added up once
    where it lands, so a merge read again may send them again."""
    out = []
    moved = timeline.moving(parts.timeline, speaker, now=utcnow())
    for n in range(0, len(moved), MOVED_BUCKETS):
        chunk = tuple(moved[n : n + MOVED_BUCKETS])
        out.append(Tally(op="buckets", speaker=speaker, into=into, buckets=chunk))
    for _, value in prefixed(parts.quotations, f"{speaker}|", partition):
        quotation = Quotation.model_validate_json(value)
        if quotation.occurrences > 0:
            out.append(Tally(op="quotation", speaker=speaker, into=into, quotation=quotation))
    return out


#: Timeline buckets per ``buckets`` tally: well under the message limit at 100 targets each.
MOVED_BUCKETS = 48


def _absorb_part(
    parts: StreamsApp, state: SpeakerState | None, key: str, tally: Tally
) -> SpeakerState | None:
    """Add a merged speaker's buckets or quotation (``tally``) to ``key``'s; the speaker's
    value to write (its distinct quotations changed), else None."""
    if tally.op == "buckets":
        timeline.absorb(parts.timeline, key, tally.speaker, tally.buckets)
        return None
    assert tally.quotation is not None, "a quotation tally carries its quotation"
    index, quotations = OneRead(parts.quotation_index), OneRead(parts.quotations)
    added = absorb_quotation(index, quotations, key, tally.quotation)
    timeline.first_heard(parts.timeline, key, added.heard)
    if not added.delta:
        return None
    if state is None:  # the absorb that comes first was lost: a value to count in
        now = utcnow()
        state = SpeakerState(
            summary=SpeakerSummary(
                id=key,
                name=tally.name or key,
                type=tally.type or "unknown",
                first_seen=now,
                last_seen=now,
            )
        )
    summary = state.summary
    update = {"quotations": max(0, summary.quotations + added.delta)}
    return state.model_copy(update={"summary": summary.model_copy(update=update)})


def _applied_already(state: SpeakerState | None, tally: Tally) -> bool:
    """Whether ``state`` (a speaker's own, not merged) applied ``tally`` (an add or a
    retract) already: a tally read again after a crash."""
    return (
        tally.op in ("add", "retract")
        and state is not None
        and state.merged_into is None
        and state.applied.get(tally_mark(tally), -1) >= tally.offset
    )


@dataclass
class Stores:
    """Where the quotation step reads and writes: the speaker's quotation index, its
    quotations, its timeline, and a range read of a speaker's quotation values."""

    index: MutableMapping[str, Any]
    quotations: MutableMapping[str, Any]
    timeline: timeline.Windows
    of_speaker: Callable[[str], Iterable[bytes]]


def tally_step(
    stores: Stores,
    state: SpeakerState | None,
    key: str,
    tally: Tally,
    *,
    recent_limit: int,
    now: datetime,
) -> tuple[Step, bool]:
    """What ``tally``, read under ``key``, does: the speaker's step (:func:`apply_tally`) with
    the statement counted as a quotation and in the timeline (:func:`quote`), and whether the
    speaker had applied it already (a tally read again)."""
    again = _applied_already(state, tally)
    step = apply_tally(state, key, tally, recent_limit=recent_limit, at=now)
    here = step.state is not None and step.state.merged_into is None and not step.send
    if tally.op in ("add", "retract") and (again or here):
        began, cpu = time.perf_counter(), time.thread_time()
        written = quote(stores, state if again else step.state, key, tally, again, now)
        step.state = written if again else (written or step.state)
        step.quoting = time.perf_counter() - began
        step.quoting_cpu = time.thread_time() - cpu
    return step, again


def quote(
    stores: Stores,
    state: SpeakerState | None,
    key: str,
    tally: Tally,
    again: bool,
    now: datetime,
) -> SpeakerState | None:
    """Count an add or a retract applied to speaker ``key`` as its quotation and in its
    buckets; the speaker's value to write, or None.

    ``state``: the value the speaker has with the tally applied, or, with ``again`` (the
    speaker had applied it: a tally read again after a crash), the value it had. The
    quotation and each bucket remember the tallies they counted, so each counts it once
    whichever of the writes a crash lost; where the speaker and its quotation disagree on
    whether they counted it, the speaker's distinct quotations are counted again from the
    table.
    """
    quoted = count(stores.index, stores.quotations, key, tally, at=now)
    timeline.record(stores.timeline, key, quoted, mark=tally_mark(tally), offset=tally.offset)
    if state is None:
        return None
    if again:
        if quoted.fresh and quoted.quotation_id is not None:  # the quotation had lost it
            return _recounted(stores, state, key)
        return None
    state = counted(state, tally, quoted)
    return state if quoted.fresh else _recounted(stores, state, key)


def _range_read(parts: StreamsApp, partition: int) -> Callable[[str], Iterable[bytes]]:
    """A speaker's quotation values, read from ``partition`` (a range read)."""
    return lambda speaker: (v for _, v in prefixed(parts.quotations, f"{speaker}|", partition))


def _recounted(stores: Stores, state: SpeakerState, key: str) -> SpeakerState:
    """``state`` with its distinct quotations counted from the quotations table."""
    summary = state.summary.model_copy(update={"quotations": distinct(stores.of_speaker(key))})
    return state.model_copy(update={"summary": summary})


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
            if tally.op in ("quotation", "buckets"):
                if state is not None and state.merged_into is not None:
                    # merged on: it goes where this speaker went
                    await parts.tallies.send(key=state.merged_into.encode(), value=dumps(tally))
                    continue
                updated = _absorb_part(parts, state, key, tally)
                if updated is not None:
                    table[key] = dumps(updated)
                continue
            stores = Stores(
                OneRead(parts.quotation_index),
                OneRead(parts.quotations),
                parts.timeline,
                _range_read(parts, event.message.partition),
            )
            step, again = tally_step(
                stores, state, key, tally, recent_limit=settings.recent_limit, now=utcnow()
            )
            parts.metrics.quotation_seconds += step.quoting
            parts.metrics.quotation_cpu_seconds += step.quoting_cpu
            if step.state is not None:
                # reassign, never mutate in place: the table writes its changelog on set
                table[key] = dumps(step.state)
                if tally.op == "add" and not again:
                    parts.metrics.statements_counted += 1
            for target, passed in step.send:
                await parts.tallies.send(key=target.encode(), value=dumps(passed))
                if tally.op == "merge" and passed.op == "absorb":
                    for part in moving(parts, key, target, event.message.partition):
                        await parts.tallies.send(key=target.encode(), value=dumps(part))

    return aggregate
