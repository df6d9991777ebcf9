"""A fix to faust-streaming 0.15.3: never commit past a message still being processed.

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
which Faust forgets.
"""

from __future__ import annotations

from typing import Any

from faust.transport.consumer import Consumer
from faust.utils.functional import consecutive_numbers

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
    committed = self._committed_offset[tp]
    # where the next commit must start: after the last commit, else (a partition never
    # committed, read from its beginning) the first offset this consumer was handed
    expected = committed if committed is not None else _first_seen(self).get(tp)
    if expected is not None and acked[0] > expected:
        return None  # the head is missing: in flight, or dropped at a rebalance
    pending = [m.offset for m in list(self._unacked_messages) if m.tp == tp and not m.acked]
    if pending and min(pending) < acked[0]:
        return None  # an earlier message is still in flight: commit nothing past it yet
    batch = list(next(consecutive_numbers(acked)))
    acked[: len(batch)] = []
    self._acked_index[tp].difference_update(batch)
    return int(batch[-1]) + 1


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


def apply() -> None:
    """Install the fix (idempotent)."""
    global _applied
    if not _applied:
        Consumer._new_offset = _new_offset  # type: ignore[method-assign]
        Consumer.track_message = _track_message  # type: ignore[method-assign]
        _applied = True
