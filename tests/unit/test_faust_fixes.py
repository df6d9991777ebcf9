"""The Faust fixes: no commit past a message in flight; a flush that waits for every message."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from faust.transport.consumer import Consumer
from faust.transport.producer import ProducerBuffer
from intervaltree import IntervalTree

from streams.app import faust_fixes

TP = ("articles.raw", 3)


@dataclass(eq=False)
class Msg:
    tp: Any
    offset: int
    acked: bool = False


class FakeConsumer:
    """The attributes ``_new_offset`` reads, as Faust's Consumer keeps them."""

    def __init__(self, committed: int | None, acked: list[int], pending: list[int]) -> None:
        self._acked: dict[Any, list[int]] = defaultdict(list, {TP: list(acked)})
        self._acked_index: dict[Any, set[int]] = defaultdict(set, {TP: set(acked)})
        self._gap: dict[Any, IntervalTree] = defaultdict(IntervalTree)
        self._committed_offset: dict[Any, int | None] = defaultdict(lambda: None)
        self._committed_offset[TP] = committed
        self.messages = [Msg(TP, o) for o in pending]
        self._unacked_messages = set(self.messages)


def test_faust_alone_commits_past_an_offset_in_flight() -> None:
    original = faust_fixes._original_new_offset
    consumer = FakeConsumer(committed=None, acked=[1, 2, 3, 4, 5], pending=[0])
    assert original(consumer, TP) == 6  # offset 0 would be lost on a crash or rebalance


def test_the_fix_waits_for_the_earlier_offset() -> None:
    consumer = FakeConsumer(committed=None, acked=[1, 2, 3, 4, 5], pending=[0])
    assert faust_fixes._new_offset(consumer, TP) is None
    consumer.messages[0].acked = True
    consumer._acked[TP].append(0)
    assert faust_fixes._new_offset(consumer, TP) == 6


def test_the_fix_still_stops_at_a_gap_and_after_the_last_commit() -> None:
    consumer = FakeConsumer(committed=10, acked=[10, 11, 12, 14, 15], pending=[13])
    assert faust_fixes._new_offset(consumer, TP) == 13
    consumer = FakeConsumer(committed=10, acked=[11, 12], pending=[10])
    assert faust_fixes._new_offset(consumer, TP) is None


def test_a_dropped_head_is_not_committed_past() -> None:
    """Offset 10 was dropped from a buffer at a rebalance: no longer pending, never acked."""
    original = faust_fixes._original_new_offset
    assert original(FakeConsumer(committed=10, acked=[11, 12], pending=[]), TP) == 13
    consumer = FakeConsumer(committed=10, acked=[11, 12], pending=[])
    assert faust_fixes._new_offset(consumer, TP) is None
    # never committed: the first offset handed to the consumer is where a commit must start
    consumer = FakeConsumer(committed=None, acked=[3, 4], pending=[])
    consumer._streams_first_seen = {TP: 2}
    assert faust_fixes._new_offset(consumer, TP) is None
    consumer._acked[TP].append(2)
    assert faust_fixes._new_offset(consumer, TP) == 5


def test_a_stale_copy_below_the_commit_point_does_not_hold_commits_back() -> None:
    """Offset 3 was dropped at a rebalance, redelivered, acknowledged and committed; its
    dropped copy still sits in the weak set of unacked messages until a GC pass."""
    consumer = FakeConsumer(committed=16, acked=[16, 17, 18], pending=[3])
    assert faust_fixes._new_offset(consumer, TP) == 19
    consumer = FakeConsumer(committed=16, acked=[17, 18], pending=[16])
    assert faust_fixes._new_offset(consumer, TP) is None  # 16 itself is still in flight


def test_apply_installs_it() -> None:
    faust_fixes.apply()
    assert Consumer._new_offset is faust_fixes._new_offset
    assert ProducerBuffer.flush is faust_fixes._flush


class SlowChannel:
    """Hands messages to the "client" slowly, as a producer waiting for metadata does."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.published: list[int] = []

    async def publish_message(self, fut: Any, wait: bool = False) -> None:
        await asyncio.sleep(self.delay)
        self.published.append(fut.n)


async def flushed_after(flush: Any, delay: float) -> tuple[int, int]:
    """(messages handed over when ``flush`` returned, messages put)."""
    faust_fixes.apply()
    buffer = ProducerBuffer()
    buffer.app = SimpleNamespace(conf=SimpleNamespace(producer_threaded=False))  # type: ignore[assignment]
    channel = SlowChannel(delay)
    await buffer.start()
    try:
        for n in range(3):
            buffer.put(SimpleNamespace(n=n, message=SimpleNamespace(channel=channel)))  # type: ignore[arg-type]
        await flush(buffer)
        handed = len(channel.published)
        await faust_fixes._flush(buffer)  # drain before stopping
        return handed, 3
    finally:
        await buffer.stop()


async def test_faust_flush_returns_with_messages_still_buffered() -> None:
    handed, put = await flushed_after(faust_fixes._original_flush, delay=0.25)
    assert handed < put  # a commit after this flush covers table writes not yet sent


async def test_the_fixed_flush_waits_for_every_message() -> None:
    handed, put = await flushed_after(faust_fixes._flush, delay=0.25)
    assert handed == put


class SeekingConsumer:
    """What ``perform_seek`` reads: committed offsets from the broker, the assignment."""

    def __init__(self, committed: dict[Any, int | None], reset: str = "earliest") -> None:
        self.committed = committed
        self._read_offset: dict[Any, int | None] = {}
        self._committed_offset: dict[Any, int | None] = defaultdict(lambda: None)
        self.app = SimpleNamespace(
            conf=SimpleNamespace(consumer_auto_offset_reset=reset),
            tables=SimpleNamespace(changelog_topics={"app-speakers-changelog"}),
        )
        self.to_beginning: list[tuple[str, int]] = []
        self._thread = SimpleNamespace(seek_to_beginning=self._seek_to_beginning)

    async def earliest_offsets(self, *tps: Any) -> dict[Any, int]:
        return {tp: 0 for tp in tps}

    async def seek_to_committed(self) -> dict[Any, int | None]:
        return self.committed

    def assignment(self) -> set[Any]:
        return set(self.committed)

    # Faust's Consumer._is_changelog_tp, over the fake app above
    _is_changelog_tp = Consumer._is_changelog_tp

    async def _seek_to_beginning(self, *tps: Any) -> None:
        self.to_beginning.extend((tp.topic, tp.partition) for tp in tps)


async def test_partitions_never_committed_go_back_to_their_first_offset() -> None:
    from faust.types import TP as FaustTP

    committed = {
        FaustTP("statements", 0): 120,  # committed: aiokafka seeks there itself
        FaustTP("statements", 1): None,  # never committed: records dropped would be skipped
        FaustTP("statements", 2): 0,  # committed at 0: aiokafka does not seek either
        FaustTP("app-speakers-changelog", 1): None,  # recovery reads changelogs itself
    }
    consumer = SeekingConsumer(committed)
    await faust_fixes._perform_seek(consumer)
    assert sorted(consumer.to_beginning) == [("statements", 1), ("statements", 2)]
    # and a commit must start at the log's start there, whatever record arrives first
    assert consumer._streams_first_seen == {  # type: ignore[attr-defined]
        FaustTP("statements", 1): 0,
        FaustTP("statements", 2): 0,
    }
    consumer._acked = defaultdict(list, {FaustTP("statements", 1): [1, 2, 3]})  # type: ignore[attr-defined]
    consumer._gap = defaultdict(IntervalTree)  # type: ignore[attr-defined]
    consumer._unacked_messages = set()  # type: ignore[attr-defined]
    consumer._acked_index = defaultdict(set)  # type: ignore[attr-defined]
    assert faust_fixes._new_offset(consumer, FaustTP("statements", 1)) is None  # 0 is missing
    assert faust_fixes.missing_heads(consumer) == {FaustTP("statements", 1): 0}
    consumer = SeekingConsumer(committed, reset="latest")
    await faust_fixes._perform_seek(consumer)
    assert consumer.to_beginning == []


def test_a_dropped_head_with_later_offsets_acknowledged_is_found() -> None:
    """Offsets 16–39 were dropped at a rebalance and the partition went on from 40."""
    consumer = FakeConsumer(committed=16, acked=[40, 41, 42], pending=[])
    assert faust_fixes.missing_heads(consumer) == {TP: 16}
    # still in an actor's batch: in flight, not missing
    consumer = FakeConsumer(committed=16, acked=[40, 41], pending=[16, 17])
    assert faust_fixes.missing_heads(consumer) == {}
    # nothing missing: the head is the next offset to commit
    consumer = FakeConsumer(committed=16, acked=[16, 17], pending=[])
    assert faust_fixes.missing_heads(consumer) == {}


#: sha256 (first 16 hex digits) of ``inspect.getsource`` of each upstream function the fixes
#: replace, as in faust-streaming 0.15.3. A change here means an upgrade changed code the fixes
#: were written against: review each fix against the new code before updating a fingerprint.
FINGERPRINTS = {
    "faust.transport.consumer.Consumer._new_offset": "1d2c7ea89a7ad4f1",
    "faust.transport.consumer.Consumer.track_message": "217d7f1399a4cd8e",
    "faust.transport.consumer.Consumer.perform_seek": "0e8c130ff4b0afd8",
    "faust.transport.producer.ProducerBuffer.put": "bf26dfbc01d91088",
    "faust.transport.producer.ProducerBuffer._send_pending": "4a9d5f932b56bc68",
    "faust.transport.producer.ProducerBuffer.flush": "26fbebb124ad9c98",
    "faust.tables.base.Collection._maybe_set_key_ttl": "39b7465fa5803899",
}


def test_every_patched_upstream_function_is_the_code_the_fixes_were_written_for() -> None:
    import hashlib
    import inspect

    found = {
        name: hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]
        for name, function in faust_fixes.originals().items()
    }
    assert found == FINGERPRINTS


def test_the_patch_list_is_what_apply_installs() -> None:
    faust_fixes.apply()
    assert len(faust_fixes.PATCHES) == len(FINGERPRINTS) == 7
    for owner, name, original, replacement in faust_fixes.PATCHES:
        assert getattr(owner, name) is replacement
        assert original is not replacement


def test_other_upstream_versions_are_refused_with_both_versions_named() -> None:
    import pytest

    from streams.errors import ConfigError

    faust_fixes.check_versions()  # the installed ones are the pinned ones
    upgraded = {"faust-streaming": "0.16.0", "aiokafka": "0.14.0"}
    with pytest.raises(ConfigError) as caught:
        faust_fixes.check_versions(upgraded.__getitem__)
    message = str(caught.value)
    assert "faust-streaming 0.15.3 and aiokafka 0.14.0" in message
    assert "faust-streaming 0.16.0" in message
    assert "pip install 'faust-streaming==0.15.3' 'aiokafka==0.14.0'" in message
    with pytest.raises(ConfigError, match=r"aiokafka 0\.13\.0"):
        faust_fixes.check_versions({"faust-streaming": "0.15.3", "aiokafka": "0.13.0"}.__getitem__)


def test_a_threaded_producer_is_refused(tmp_path: Any, monkeypatch: Any) -> None:
    import faust
    import pytest

    from streams.app import factory
    from streams.errors import ConfigError
    from streams.settings import Settings

    faust_fixes.check_conf(SimpleNamespace(producer_threaded=False))
    with pytest.raises(ConfigError, match="producer_threaded"):
        faust_fixes.check_conf(SimpleNamespace(producer_threaded=True))

    app_class = faust.App

    def threaded_app(*args: Any, **kwargs: Any) -> faust.App:
        return app_class(*args, **kwargs, producer_threaded=True)

    # the app the worker builds is checked, not just the function
    monkeypatch.setattr(factory.faust, "App", threaded_app)
    with pytest.raises(ConfigError, match="producer_threaded"):
        factory.create_app(Settings(_env_file=None, data_dir=tmp_path))  # type: ignore[call-arg]


class FakeWindowed:
    """The attributes a windowed table's key expiry keeps, as Faust's Collection has them."""

    def __init__(self) -> None:
        self._partition_timestamp_keys: dict[Any, set[Any]] = defaultdict(set)
        self._partition_timestamps: dict[int, list[float]] = defaultdict(list)
        self._partition_latest_timestamp: dict[int, float] = defaultdict(int)

    def _should_expire_keys(self) -> bool:
        return True


def test_a_window_written_many_times_is_remembered_once_for_expiry() -> None:
    faust_alone, fixed = FakeWindowed(), FakeWindowed()
    writes = [(f"speaker {n % 3}", (3600.0 * (n % 2), 3600.0 * (n % 2 + 1))) for n in range(50)]
    for key in writes:
        faust_fixes._original_set_key_ttl(faust_alone, key, 1)
        faust_fixes._set_key_ttl(fixed, key, 1)
    assert len(faust_alone._partition_timestamps[1]) == 50  # one per write
    assert sorted(fixed._partition_timestamps[1]) == [3600.0, 7200.0]  # one per window
    assert fixed._partition_timestamp_keys == faust_alone._partition_timestamp_keys
    assert fixed._partition_latest_timestamp == {1: 7200.0}
    # Faust's expiry pops a window's end and its keys together; a late write pushes it again
    fixed._partition_timestamps[1].remove(3600.0)
    del fixed._partition_timestamp_keys[(1, 3600.0)]
    faust_fixes._set_key_ttl(fixed, ("speaker 0", (0.0, 3600.0)), 1)
    assert sorted(fixed._partition_timestamps[1]) == [3600.0, 7200.0]
    assert fixed._partition_timestamp_keys[(1, 3600.0)] == {("speaker 0", (0.0, 3600.0))}
