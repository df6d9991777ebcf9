"""What each speaker said over time: Faust tumbling windows of an hour and of a day.

Two windowed tables (``timeline-hour``, ``timeline-day``; key ``[speaker id, [start,
end]]``, a :class:`~streams.records.Bucket` each), kept :data:`KEPT` seconds: Faust drops a
window once the partition's latest one is that much later, and the changelog deletes it
too. Time is the statement's *event* time, its article's ``published_at``, else when the
article was fetched, so a replay of last week's news fills last week's buckets.

Written by the aggregate agent with each statement it counts or uncounts (the quotation
step says which, when and with which stances), in the speaker's partition: one write per
window. A bucket's ``quotations`` are the quotations first heard in it (the bucket of a
quotation's ``first_seen``, moved when an earlier occurrence comes; taken back with its
last occurrence).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import faust

from streams.app.aggregate import count_stances
from streams.app.quotations import Counted
from streams.records import Bucket
from streams.settings import Settings

#: Bucket name → seconds.
BUCKETS: dict[str, float] = {"hour": 3600.0, "day": 86400.0}
#: Seconds a bucket is kept after the partition's latest one.
KEPT = 30 * 86400.0

Windows = Mapping[str, Any]  # bucket name → Faust WindowWrapper


def windowed_tables(app: faust.App, settings: Settings) -> dict[str, Any]:
    """The hour and day tables, as Faust window wrappers."""
    out = {}
    for name, size in BUCKETS.items():
        table = app.Table(
            f"timeline-{name}",
            default=None,
            partitions=settings.partitions,
            # no key or value type: Faust keeps keys and values as JSON
            help=f"Bucket per [speaker_id, {name} window]: statements, quotations, stances.",
        )
        out[name] = table.tumbling(size, expires=KEPT)
    return out


def start_of(when: datetime, size: float) -> float:
    """The start of the bucket ``when`` falls in (seconds since the epoch)."""
    ts = when.timestamp()
    return ts - ts % size


def record(windows: Windows, speaker: str, change: Counted) -> None:
    """Count ``change`` (a statement counted or uncounted for ``speaker``) in its buckets:
    the statement and its stances where its time falls, a quotation where it was first
    heard (moved when an earlier occurrence comes)."""
    if change.sign == 0 or change.at is None:
        return
    for name in BUCKETS:
        wrapper = windows[name]
        table = wrapper.table
        updates: dict[Any, tuple[datetime, int, int]] = {}  # window → (time, statements, heard)
        here = table.window.current(change.at.timestamp())
        updates[here] = (change.at, change.sign, 0)
        for when, step in change.heard:
            window = table.window.current(when.timestamp())
            at, statements, heard = updates.get(window, (when, 0, 0))
            updates[window] = (at, statements, heard + step)
        for window, (at, statements, heard) in updates.items():
            value = table.get((speaker, window))
            bucket = Bucket.model_validate(value) if value is not None else Bucket()
            updated = Bucket(
                statements=max(0, bucket.statements + statements),
                quotations=max(0, bucket.quotations + heard),
                stances=count_stances(bucket.stances, change.stances, change.sign)
                if window == here
                else bucket.stances,
            )
            # set through the wrapper at the bucket's time: Faust keeps the window's expiry
            wrapper.relative_to(at)[speaker] = updated.model_dump(mode="json")


def buckets(
    windows: Windows, speaker: str, name: str, *, now: datetime
) -> Iterator[dict[str, Any]]:
    """The speaker's non-empty buckets of kind ``name``, oldest first, over the last
    :data:`KEPT` seconds up to ``now``: one lookup per bucket, no scan of the table."""
    size = BUCKETS[name]
    table = windows[name].table
    end = start_of(now, size)
    start = end - (KEPT // size) * size
    t = start
    while t <= end:
        value = table.get((speaker, table.window.current(t)))
        if value is not None:
            bucket = Bucket.model_validate(value)
            if bucket.statements:
                yield {
                    "start": datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z"),
                    "statements": bucket.statements,
                    "quotations": bucket.quotations,
                    "stances": {
                        target: counts.model_dump(exclude={"schema_version"})
                        for target, counts in bucket.stances.items()
                    },
                }
        t += size
