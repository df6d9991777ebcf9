"""Liveness: a partition with records waiting but no progress for a while is reported.

:class:`Watchdog` is pure bookkeeping over offsets (tested without a broker); the worker
feeds it Faust's monitor offsets on a timer, logs each stall with topic, partition and
offset, and counts it in the metrics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Stall:
    topic: str
    partition: int
    offset: int  # the last offset read (-1: none yet)
    waiting: int  # records after it
    seconds: float  # since the last progress


class Watchdog:
    """Remembers, per partition, the last offset read and since when it has not moved."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._since: dict[Any, tuple[int, float]] = {}
        self._reported: set[Any] = set()

    def check(
        self, read: Mapping[Any, int], end: Mapping[Any, int], now: float
    ) -> tuple[list[Stall], int]:
        """(newly stalled partitions, partitions stalled now). ``read`` maps a partition to
        the last offset processed, ``end`` to the offset the next record will get."""
        new: list[Stall] = []
        stalled = 0
        for tp, end_offset in end.items():
            offset = read.get(tp, -1)
            waiting = end_offset - (offset + 1)
            last = self._since.get(tp)
            if waiting <= 0 or last is None or last[0] != offset:
                self._since[tp] = (offset, now)
                self._reported.discard(tp)
                continue
            if now - last[1] >= self.timeout:
                stalled += 1
                if tp not in self._reported:
                    self._reported.add(tp)
                    new.append(Stall(tp.topic, tp.partition, offset, waiting, now - last[1]))
        return new, stalled
