"""The commit-offset fix: Faust must not commit past a message still in flight."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from faust.transport.consumer import Consumer
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


def test_apply_installs_it() -> None:
    faust_fixes.apply()
    assert Consumer._new_offset is faust_fixes._new_offset
