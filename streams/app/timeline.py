"""What each speaker said over time: Faust tumbling windows of an hour and of a day.

Two windowed tables (``timeline-hour``, ``timeline-day``; key ``[speaker id, [start,
end]]``, a :class:`~streams.records.Bucket` each), kept :data:`KEPT` seconds: Faust drops a
window once the partition's latest one is that much later, and the changelog deletes it
too. Time is the statement's *event* time, its article's ``published_at``, else when the
article was fetched, so a replay of last week's news fills last week's buckets.

Written by the aggregate agent with each statement it counts or uncounts (the quotation
step says which, when and with which stances), in the speaker's partition: one write per
window, whose changelog record waits for the next commit (a
:class:`~streams.app.tables.Deferred` table: a speaker's current hour and day, written with
each of its statements, go to the changelog once per commit). A bucket's ``quotations`` are
the quotations first heard in it (the bucket of a quotation's ``first_seen``, moved when an
earlier occurrence comes; taken back with its last occurrence). Each bucket keeps the
offsets of the tallies it counted, so a tally read again after a crash counts once; a merge
moves the merged id's buckets (:func:`moving`, :func:`absorb`), each added up once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, cast

import faust
import orjson

from streams.app.aggregate import MAX_ABSORBED, MAX_STANCE_TARGETS, add_stances
from streams.app.quotations import Counted, later
from streams.app.tables import Deferred
from streams.codec import Remembered, dumps
from streams.records import Bucket, MovedBucket, Stance, StanceCounts
from streams.settings import Settings

#: Bucket name → seconds.
BUCKETS: dict[str, float] = {"hour": 3600.0, "day": 86400.0}
#: Seconds a bucket is kept after the partition's latest one.
KEPT = 30 * 86400.0
#: Buckets remembered decoded (by their bytes): a speaker's current hour and day are read back
#: as they were last written, with each statement, so they are not decoded again.
REMEMBERED = 4096

# With each statement a bucket is read and written as its JSON has it (a dict; see
# :func:`record`), not as a Bucket: a busy speaker's day holds up to a hundred stance targets,
# which orjson reads in a third of pydantic's time and writes in a quarter. The JSON
# is a Bucket's (its tests read it as one), and so are the rarer writes of a merge.
Json = dict[str, Any]
_json: Remembered[Json] = Remembered(orjson.loads, orjson.dumps, REMEMBERED)
_EMPTY: Json = orjson.loads(dumps(Bucket()))
_NO_STANCE: Json = orjson.loads(dumps(StanceCounts()))

Windows = Mapping[str, Any]  # bucket name → Faust WindowWrapper


def windowed_tables(app: faust.App, settings: Settings) -> dict[str, Any]:
    """The hour and day tables, as Faust window wrappers."""
    out = {}
    for name, size in BUCKETS.items():
        table = Deferred(
            app,
            name=f"timeline-{name}",
            beacon=app.tables.beacon,
            default=None,
            partitions=settings.partitions,
            # keys as Faust's JSON (a [key, window] pair); values the JSON bytes of a Bucket
            # (bytes: Faust's raw serializer), which pydantic reads in one pass
            value_type=bytes,
            help=f"Bucket per [speaker_id, {name} window]: statements, quotations, stances.",
        )
        app.tables.add(table)
        out[name] = table.tumbling(size, expires=KEPT)
    return out


def start_of(when: datetime, size: float) -> float:
    """The start of the bucket ``when`` falls in (seconds since the epoch)."""
    ts = when.timestamp()
    return ts - ts % size


def record(
    windows: Windows, speaker: str, change: Counted, *, mark: str | None = None, offset: int = 0
) -> None:
    """Count ``change`` (a statement counted or uncounted for ``speaker``) in its buckets:
    the statement and its stances where its time falls, a quotation where it was first
    heard (moved when an earlier occurrence comes). ``mark``/``offset``: the tally's (see
    :func:`~streams.app.quotations.tally_mark`); a bucket that counted it already is left
    as it is."""
    if change.sign == 0 or change.at is None:
        return
    for name in BUCKETS:
        table = windows[name].table
        updates: dict[Any, tuple[int, int]] = {}  # window → (statements, heard)
        here = table.window.current(change.at.timestamp())
        updates[here] = (change.sign, 0)
        for when, step in change.heard:
            window = table.window.current(when.timestamp())
            statements, heard = updates.get(window, (0, 0))
            updates[window] = (statements, heard + step)
        for window, (statements, heard) in updates.items():
            value = table.get((speaker, window))
            bucket = _json(value) if value is not None else _EMPTY
            applied = bucket["applied"]
            if mark is not None and applied.get(mark, -1) >= offset:
                continue  # counted already (a tally read again after a crash)
            updated = {
                **bucket,  # absorbed as it was
                "statements": max(0, bucket["statements"] + statements),
                "quotations": max(0, bucket["quotations"] + heard),
                "stances": _count_stances(bucket["stances"], change.stances, change.sign)
                if window == here
                else bucket["stances"],
                "applied": {**applied, mark: offset} if mark is not None else applied,
            }
            table[(speaker, window)] = _json.written(updated)


def _count_stances(stances: Json, found: tuple[Stance, ...], step: int) -> Json:
    """:func:`~streams.app.aggregate.count_stances` on a bucket's JSON: ``stances`` with
    each of ``found`` counted ``step`` (1 or -1) times; bounded the same way."""
    out = dict(stances)
    for stance in found:
        counts = out.get(stance.target)
        if counts is None:
            if step < 0:
                continue  # a target dropped for room: nothing to take back
            counts = _NO_STANCE
            if len(out) >= MAX_STANCE_TARGETS:
                del out[min(out, key=lambda t: (_total(out[t]), t))]
        counts = {**counts, stance.polarity: max(0, counts[stance.polarity] + step)}
        if _total(counts):
            out[stance.target] = counts
        else:
            out.pop(stance.target, None)
    return out


def _total(counts: Json) -> int:
    return int(counts["favor"] + counts["against"] + counts["neutral"])


def _bucket(table: Any, speaker: str, window: Any) -> Bucket:
    value = table.get((speaker, window))
    return Bucket.model_validate_json(value) if value is not None else Bucket()


def kept(
    windows: Windows, speaker: str, name: str, *, now: datetime
) -> Iterator[tuple[float, Bucket]]:
    """``(start, bucket)`` for the speaker's buckets of kind ``name``, oldest first, over the
    last :data:`KEPT` seconds up to ``now``: one lookup per bucket, no scan of the table."""
    size = BUCKETS[name]
    table = windows[name].table
    end = start_of(now, size)
    t = end - (KEPT // size) * size
    while t <= end:
        value = table.get((speaker, table.window.current(t)))
        if value is not None:
            yield t, Bucket.model_validate_json(value)
        t += size


def buckets(
    windows: Windows, speaker: str, name: str, *, now: datetime
) -> Iterator[dict[str, Any]]:
    """The speaker's non-empty buckets of kind ``name``, oldest first (see :func:`kept`), as
    ``/speakers/{id}/timeline`` lists them."""
    for t, bucket in kept(windows, speaker, name, now=now):
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


def moving(windows: Windows, speaker: str, *, now: datetime) -> list[MovedBucket]:
    """Every bucket of ``speaker`` kept up to ``now``, of both kinds, to move to the speaker a
    merge says it is."""
    return [
        MovedBucket(
            size=cast(Literal["hour", "day"], name),
            start=datetime.fromtimestamp(t, UTC),
            bucket=bucket,
        )
        for name in BUCKETS
        for t, bucket in kept(windows, speaker, name, now=now)
        if bucket.statements or bucket.quotations
    ]


def absorb(windows: Windows, speaker: str, merged: str, moved: Iterable[MovedBucket]) -> None:
    """Add the buckets of ``merged``, a speaker id merged into ``speaker``, to ``speaker``'s,
    each once (a merge read again adds nothing)."""
    for one in moved:
        table = windows[one.size].table
        window = table.window.current(one.start.timestamp())
        bucket = _bucket(table, speaker, window)
        if merged in bucket.absorbed:
            continue
        updated = Bucket(
            statements=bucket.statements + one.bucket.statements,
            quotations=bucket.quotations + one.bucket.quotations,
            stances=add_stances(bucket.stances, one.bucket.stances),
            # and what the merged bucket had added up itself: a merge of a merge, read
            # again, adds none of them twice
            absorbed=tuple(dict.fromkeys((*bucket.absorbed, merged, *one.bucket.absorbed)))[
                -MAX_ABSORBED:
            ],
            applied=later(bucket.applied, one.bucket.applied),
        )
        table[(speaker, window)] = dumps(updated)


def first_heard(windows: Windows, speaker: str, heard: Iterable[tuple[datetime, int]]) -> None:
    """Move first hearings of ``speaker``'s quotations: ``(time, ±1)`` each."""
    for when, step in heard:
        for name in BUCKETS:
            table = windows[name].table
            window = table.window.current(when.timestamp())
            bucket = _bucket(table, speaker, window)
            updated = bucket.model_copy(update={"quotations": max(0, bucket.quotations + step)})
            table[(speaker, window)] = dumps(updated)
