"""Fixes to faust-streaming 0.15.3 that at-least-once processing depends on, and one that
bounds a windowed table's memory.

1. Never commit past a message still being processed.

Faust commits, per partition, the end of the first run of consecutive acknowledged offsets.
It checks that the run starts right after the last commit only when a commit exists and is not
offset 0 (``if committed_offset:``), and then with an off-by-one (``min(acked) - committed >
1``). With two actors on one stream (``STREAMS_ENRICH_CONCURRENCY``), one actor can finish
offsets 1…16 while the other still holds offset 0: Faust commits 17, and if the partition
moves to another worker before offset 0 is done, offset 0 is never read again. That happened
here: one article of 500 lost in a two-worker benchmark run whose workers rebalanced while
the replay started.

The replacement below is Faust's ``Consumer._new_offset`` with two rules more: the run it
commits must start where the last commit ended (or, on a partition never committed, at the
first offset this consumer was handed), without the off-by-one; and it never passes a message
of that partition that was handed to a stream and is not acknowledged yet (Faust tracks those
in ``_unacked_messages`` for its graceful shutdown). The second rule covers a message still
in an actor's batch; the first covers one dropped from a stream's buffer at a rebalance,
which Faust forgets. A dropped copy can linger in that weak set until a garbage-collector
pass, after its redelivered copy was acknowledged and committed; below the commit point it
no longer counts (it held a partition's commits back for good in two-worker benchmarks).

2. Flush means flushed. Table writes go to the changelog through the producer's buffer
(``send_soon``); before it commits input offsets, and when partitions are revoked, Faust
"flushes" that buffer, but ``ProducerBuffer.flush`` returns as soon as no message left the
buffer within 0.1 s, and counts the buffer empty while its sender task still holds the last
message. The commit then lands before the table writes it covers. When the partition moves
(a rebalance, a crash), the next owner recovers the changelog without those writes, resumes
after the committed offset, and overwrites the keys: statements counted, then lost. Seen
here: two workers, 28 of 1,360 statements missing after one rebalance. The replacement waits
until every message buffered before the call has been handed to the client, then the
client's own flush (which waits for the broker) follows as before.

3. A partition never committed is re-read from its beginning, not from where the fetcher got
to (see ``_perform_seek``).

4. A windowed table remembers each window once for its expiry. ``Collection.
_maybe_set_key_ttl`` pushes the window's end onto a per-partition heap on every *write*, so
the heap held one entry per write to a window still kept (for the timeline: two per
statement, over the 30 days kept) and grew with the statements, not the windows. The
replacement pushes a window's end when its ``(partition, end)`` is first seen; Faust's
expiry pops that entry with the window's keys, so a late write to an expired window pushes
it again.

The fixes replace private methods, so they hold only for the code they were written against:
:func:`apply` refuses any other faust-streaming or aiokafka version than :data:`WRITTEN_FOR`,
and ``tests/unit/test_faust_fixes.py`` fingerprints the source of every method replaced, so an
upgrade shows in ``make test``. :func:`check_conf` refuses a threaded producer, whose sends the
flush fix cannot see.
"""

from __future__ import annotations

import asyncio
from heapq import heappush
from importlib import metadata
from typing import Any

from aiokafka import TopicPartition
from faust.tables.base import Collection
from faust.transport.consumer import Consumer
from faust.transport.producer import ProducerBuffer
from faust.utils.functional import consecutive_numbers

from streams.errors import ConfigError

#: The versions these fixes were written for, and checked against.
WRITTEN_FOR = {"faust-streaming": "0.15.3", "aiokafka": "0.14.0"}

_applied = False
#: Faust's own version, kept for the tests that show what the fix changes.
_original_new_offset = Consumer._new_offset


def _new_offset(self: Any, tp: Any) -> int | None:
    acked = self._acked[tp]
    if not acked:
        return None
    max_offset = max(acked)
    gap_for_tp = self._gap[tp]
    if gap_for_tp:  # offsets the broker will never deliver (compaction, control records)
        candidates = sorted(gap_for_tp.overlap(0, max_offset), key=lambda x: x.begin)
        if candidates:
            filled: list[int] = []
            for entry in candidates:
                filled.extend(range(entry.begin, entry.end))
            new_max_offset = max(filled[-1], max_offset + 1)
            acked.extend(filled)
            gap_for_tp.chop(0, new_max_offset)
    acked.sort()
    expected = _expected(self, tp)
    if expected is not None and acked[0] > expected:
        return None  # the head is missing: in flight, or dropped at a rebalance
    # a copy of a message dropped from a stream's buffer at a rebalance can linger in the
    # (weak) set of unacked messages until the garbage collector runs; once its offset is
    # below the commit point it is covered (its redelivered copy was acknowledged) and must
    # not hold commits back forever
    floor = expected if expected is not None else 0
    pending = [
        m.offset
        for m in list(self._unacked_messages)
        if m.tp == tp and not m.acked and m.offset >= floor
    ]
    if pending and min(pending) < acked[0]:
        return None  # an earlier message is still in flight: commit nothing past it yet
    batch = list(next(consecutive_numbers(acked)))
    acked[: len(batch)] = []
    self._acked_index[tp].difference_update(batch)
    return int(batch[-1]) + 1


def _expected(consumer: Any, tp: Any) -> int | None:
    """Where the next commit of ``tp`` must start: after the last commit, else (a partition
    never committed, read from its beginning) its log start or the first offset handed out."""
    committed: int | None = consumer._committed_offset.get(tp)
    return committed if committed is not None else _first_seen(consumer).get(tp)


def _first_seen(consumer: Any) -> dict[Any, int]:
    found: dict[Any, int] = consumer.__dict__.setdefault("_streams_first_seen", {})
    return found


_original_track_message = Consumer.track_message


def _track_message(self: Any, message: Any) -> None:
    if self._committed_offset[message.tp] is None:
        first = _first_seen(self)
        if message.offset < first.get(message.tp, message.offset + 1):
            first[message.tp] = message.offset
    _original_track_message(self, message)


_original_put = ProducerBuffer.put
_original_send_pending = ProducerBuffer._send_pending
#: Faust's own flush, kept for the test that shows it returning early.
_original_flush = ProducerBuffer.flush


def _count(buffer: Any, name: str) -> int:
    return int(buffer.__dict__.get(name, 0))


def _put(self: Any, fut: Any) -> None:
    self.__dict__["_streams_put"] = _count(self, "_streams_put") + 1
    _original_put(self, fut)


async def _send_pending(self: Any, fut: Any) -> None:
    # called by the buffer's sender task right after it took ``fut`` off the queue, with no
    # await in between: from here until the client holds the message, it is in flight
    self.__dict__["_streams_in_flight"] = _count(self, "_streams_in_flight") + 1
    try:
        await _original_send_pending(self, fut)
    finally:
        self.__dict__["_streams_in_flight"] = _count(self, "_streams_in_flight") - 1
        self.__dict__["_streams_sent"] = _count(self, "_streams_sent") + 1


async def _flush(self: Any) -> None:
    """Wait until every message buffered before this call has been handed to the client.

    Messages put while it waits are not waited for (the queue is first in, first out), so a
    busy stream cannot starve the commit that called it.
    """
    target = _count(self, "_streams_put")
    while _count(self, "_streams_sent") < target:
        if self.state != "running" and not _count(self, "_streams_in_flight"):
            # stopping: the sender task takes nothing more off the queue
            raise RuntimeError("Cannot flush: Producer not Running")
        self.message_sent.clear()
        try:
            await asyncio.wait_for(self.message_sent.wait(), timeout=0.1)
        except TimeoutError:
            continue


_original_perform_seek = Consumer.perform_seek


async def _perform_seek(self: Any) -> None:
    """Seek to the committed offsets, and partitions never committed to their beginning.

    Faust drops records fetched while its flow is stopped (a rebalance, a recovery) and
    "seeks back to committed offsets" to fetch them again; but aiokafka's
    ``seek_to_committed`` leaves a partition with no commit (or a commit at 0) where the
    fetcher got to. A partition the previous owner never committed then resumes after the
    dropped records: here a worker that took over two partitions skipped 370 statements.
    With ``auto_offset_reset=earliest`` such partitions go back to their first offset.
    """
    await _original_perform_seek(self)
    if self.app.conf.consumer_auto_offset_reset != "earliest":
        return
    fresh = [
        tp
        for tp in self.assignment()
        if not self._is_changelog_tp(tp) and not self._committed_offset.get(tp)
    ]
    if fresh:
        # the first offset a commit must cover is the log's start, not the first record this
        # consumer happened to be handed: Faust also drops, without a seek back, records
        # fetched for a partition it has paused, and one such record at offset 0 was lost
        # and committed past in a two-worker benchmark run
        first = _first_seen(self)
        for tp, offset in (await self.earliest_offsets(*fresh)).items():
            if offset is not None and offset >= 0:
                first[tp] = offset
        await self._thread.seek_to_beginning(
            *(TopicPartition(tp.topic, tp.partition) for tp in fresh)
        )


def missing_heads(consumer: Any) -> dict[Any, int]:
    """Stream partitions whose next offset to commit is gone: handed out, not acknowledged,
    not in flight, while later offsets were acknowledged; partition → that offset.

    Faust drops the records in its streams' buffers when a rebalance stops the flow and
    counts on a seek back to the committed offset to read them again; in two-worker
    benchmark runs that seek sometimes came before the records were dropped, and the
    partition went on after them (offsets 16–39 missing, 40 onwards acknowledged). Commits
    then stay behind the gap for good (see ``_new_offset``). The worker's watchdog seeks
    such a partition back to that offset (:func:`reread`).
    """
    in_flight: dict[Any, list[int]] = {}
    for message in list(consumer._unacked_messages):
        if not message.acked:
            in_flight.setdefault(message.tp, []).append(message.offset)
    out: dict[Any, int] = {}
    for tp, acked in list(consumer._acked.items()):
        if not acked:
            continue
        expected = _expected(consumer, tp)
        if expected is None:
            continue
        head = min(acked)
        if head > expected and not any(expected <= o < head for o in in_flight.get(tp, ())):
            out[tp] = expected
    return out


_original_set_key_ttl = Collection._maybe_set_key_ttl


def _set_key_ttl(self: Any, key: Any, partition: int) -> None:
    """Faust's ``_maybe_set_key_ttl`` with a window's end pushed once (see fix 4)."""
    if not self._should_expire_keys():
        return
    _, (_, range_end) = key
    keys = self._partition_timestamp_keys.get((partition, range_end))
    if keys is None:
        keys = self._partition_timestamp_keys[(partition, range_end)] = set()
        heappush(self._partition_timestamps[partition], range_end)
    self._partition_latest_timestamp[partition] = max(
        self._partition_latest_timestamp[partition], range_end
    )
    keys.add(key)


async def reread(consumer: Any, tp: Any, offset: int) -> None:
    """Seek ``tp`` back to ``offset``: what follows is read (and processed) again."""
    await consumer.seek(TopicPartition(tp.topic, tp.partition), offset)


#: Every upstream method replaced: (owner, attribute, Faust's own, the replacement).
PATCHES: tuple[tuple[type, str, Any, Any], ...] = (
    (Consumer, "_new_offset", _original_new_offset, _new_offset),
    (Consumer, "track_message", _original_track_message, _track_message),
    (Consumer, "perform_seek", _original_perform_seek, _perform_seek),
    (ProducerBuffer, "put", _original_put, _put),
    (ProducerBuffer, "_send_pending", _original_send_pending, _send_pending),
    (ProducerBuffer, "flush", _original_flush, _flush),
    (Collection, "_maybe_set_key_ttl", _original_set_key_ttl, _set_key_ttl),
)


def originals() -> dict[str, Any]:
    """The upstream functions the fixes replace, by qualified name (as imported, unpatched)."""
    return {
        f"{owner.__module__}.{owner.__qualname__}.{name}": original
        for owner, name, original, _ in PATCHES
    }


def check_versions(installed: Any = metadata.version) -> None:
    """Raise :class:`ConfigError` unless faust-streaming and aiokafka are the versions the
    fixes were written for (``installed`` reads a distribution's version)."""
    found = {name: installed(name) for name in WRITTEN_FOR}
    if found != WRITTEN_FOR:
        wanted = " and ".join(f"{n} {v}" for n, v in WRITTEN_FOR.items())
        have = " and ".join(f"{n} {v}" for n, v in found.items())
        pins = " ".join(f"'{n}=={v}'" for n, v in WRITTEN_FOR.items())
        raise ConfigError(
            f"streams/app/faust_fixes.py patches private code of {wanted}, but {have} is "
            f"installed; install those versions (pip install {pins}, or `make install`), or "
            "review the fixes against the new code and then update WRITTEN_FOR and the "
            "fingerprints in tests/unit/test_faust_fixes.py"
        )


def check_conf(conf: Any) -> None:
    """Raise :class:`ConfigError` when the app's producer runs in its own thread: the flush
    fix counts the messages the buffer's sender hands over on the app's loop, and a
    threaded producer's sends never pass there."""
    if conf.producer_threaded:
        raise ConfigError(
            "producer_threaded is on, but the producer-flush fix in streams/app/faust_fixes.py "
            "cannot see a threaded producer's sends; leave it off"
        )


def apply() -> None:
    """Install the fixes (idempotent); :class:`ConfigError` on other upstream versions."""
    global _applied
    check_versions()
    if not _applied:
        for owner, name, _, replacement in PATCHES:
            setattr(owner, name, replacement)
        _applied = True
