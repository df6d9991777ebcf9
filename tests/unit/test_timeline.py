from datetime import UTC, datetime, timedelta
from typing import Any

from faust.windows import TumblingWindow

from streams.app.aggregate import MAX_STANCE_TARGETS, count_stances
from streams.app.quotations import Counted
from streams.app.timeline import BUCKETS, KEPT, buckets, record
from streams.records import Bucket, Stance, StanceCounts

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)
SPEAKER = "person:ada-lindqvist"
FAVOR = (Stance(target="the bridge", polarity="favor", score=0.5),)


class Table(dict[Any, Any]):
    """A windowed table's store, as the timeline reads it: get by ``(key, window)``."""

    def __init__(self, size: float) -> None:
        super().__init__()
        self.window = TumblingWindow(size, expires=KEPT)


class Wrapper:
    """Faust's window wrapper: the timeline reads and writes its table."""

    def __init__(self, size: float) -> None:
        self.table = Table(size)


def _windows() -> dict[str, Wrapper]:
    return {name: Wrapper(size) for name, size in BUCKETS.items()}


def test_statements_fall_in_the_buckets_of_their_articles_time() -> None:
    windows = _windows()
    day1 = NOW - timedelta(days=2)
    day2 = NOW - timedelta(days=1, hours=3)
    record(windows, SPEAKER, Counted("q1", 1, 1, day1, FAVOR, ((day1, 1),)))
    record(windows, SPEAKER, Counted("q1", sign=1, at=day1 + timedelta(minutes=5)))
    record(windows, SPEAKER, Counted("q2", 1, 1, day2, (), ((day2, 1),)))
    days = list(buckets(windows, SPEAKER, "day", now=NOW))
    assert [d["start"] for d in days] == ["2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z"]
    assert [(d["statements"], d["quotations"]) for d in days] == [(2, 1), (1, 1)]
    assert days[0]["stances"] == {"the bridge": {"favor": 1, "against": 0, "neutral": 0}}
    hours = list(buckets(windows, SPEAKER, "hour", now=NOW))
    assert [h["start"] for h in hours] == ["2026-03-02T12:00:00Z", "2026-03-03T09:00:00Z"]
    assert list(buckets(windows, "person:omar-feld", "day", now=NOW)) == []


def test_a_retraction_takes_the_statement_out_of_its_buckets() -> None:
    windows = _windows()
    at = NOW - timedelta(hours=2)
    record(windows, SPEAKER, Counted("q1", 1, 1, at, FAVOR, ((at, 1),)))
    record(windows, SPEAKER, Counted("q1", sign=1, at=at))
    record(windows, SPEAKER, Counted("q1", sign=-1, at=at, stances=FAVOR))
    (day,) = buckets(windows, SPEAKER, "day", now=NOW)
    assert (day["statements"], day["quotations"], day["stances"]) == (1, 1, {})
    record(windows, SPEAKER, Counted("q1", -1, -1, at, (), ((at, -1),)))
    assert list(buckets(windows, SPEAKER, "day", now=NOW)) == []


def test_buckets_older_than_kept_are_not_read() -> None:
    windows = _windows()
    record(windows, SPEAKER, Counted("q1", sign=1, at=NOW - timedelta(seconds=KEPT + 86400)))
    assert list(buckets(windows, SPEAKER, "day", now=NOW)) == []


def test_a_quotation_heard_earlier_than_known_moves_to_the_earlier_bucket() -> None:
    windows = _windows()
    later, earlier = NOW - timedelta(days=1), NOW - timedelta(days=3)
    record(windows, SPEAKER, Counted("q1", 1, 1, later, (), ((later, 1),)))
    record(windows, SPEAKER, Counted("q1", 0, 1, earlier, (), ((later, -1), (earlier, 1))))
    days = list(buckets(windows, SPEAKER, "day", now=NOW))
    assert [(d["start"][:10], d["statements"], d["quotations"]) for d in days] == [
        ("2026-03-01", 1, 1),
        ("2026-03-03", 1, 0),
    ]


def test_a_merged_speakers_buckets_are_added_once_where_it_went() -> None:
    from streams.app.timeline import absorb, first_heard, moving

    windows = _windows()
    merged, day1 = "person:lindqvist", NOW - timedelta(days=2)
    record(windows, merged, Counted("q1", 1, 1, day1, FAVOR, ((day1, 1),)))
    record(windows, SPEAKER, Counted("q2", 1, 1, day1, FAVOR, ((day1, 1),)))
    moved = moving(windows, merged, now=NOW)
    assert sorted(m.size for m in moved) == ["day", "hour"]
    for _ in range(2):  # the merge read again: nothing more
        absorb(windows, SPEAKER, merged, moved)
    (day,) = buckets(windows, SPEAKER, "day", now=NOW)
    assert (day["statements"], day["quotations"]) == (2, 2)
    assert day["stances"] == {"the bridge": {"favor": 2, "against": 0, "neutral": 0}}
    # the two quotations turn out to be one: the later first hearing is no first one
    first_heard(windows, SPEAKER, [(day1, -1)])
    (day,) = buckets(windows, SPEAKER, "day", now=NOW)
    assert day["quotations"] == 1


def test_a_merge_of_a_merge_read_again_adds_nothing_twice() -> None:
    """A into B, B into C; A's merge read again reaches C (B passes it on): C's buckets
    know A's were added with B's."""
    from streams.app.timeline import absorb, moving

    windows = _windows()
    a, b, c = "person:a", "person:b", SPEAKER
    day1 = NOW - timedelta(days=2)
    record(windows, a, Counted("q1", 1, 1, day1, FAVOR, ((day1, 1),)))
    from_a = moving(windows, a, now=NOW)
    absorb(windows, b, a, from_a)
    absorb(windows, c, b, moving(windows, b, now=NOW))
    absorb(windows, c, a, from_a)
    (day,) = buckets(windows, c, "day", now=NOW)
    assert (day["statements"], day["quotations"]) == (1, 1)


def test_a_buckets_stances_count_and_drop_targets_as_the_speakers_do() -> None:
    # the bucket's JSON is counted without pydantic: it must come out as count_stances has it
    windows = _windows()
    at = NOW - timedelta(hours=1)
    polarities = (("favor", 0.5), ("against", -0.5), ("neutral", 0.0))
    mine: dict[str, StanceCounts] = {}
    for n in range(MAX_STANCE_TARGETS + 40):
        found = tuple(
            Stance(
                target=f"target {(n * 7 + k) % 130}",
                polarity=polarities[(n + k) % 3][0],
                score=polarities[(n + k) % 3][1],
            )
            for k in range(1 + n % 3)
        )
        sign = -1 if n % 5 == 4 else 1
        record(windows, SPEAKER, Counted(None, sign=sign, at=at, stances=found))
        mine = count_stances(mine, found, sign)
    value = windows["hour"].table[(SPEAKER, windows["hour"].table.window.current(at.timestamp()))]
    bucket = Bucket.model_validate_json(value)  # what the timeline wrote is a Bucket
    assert bucket.stances == mine and len(mine) == MAX_STANCE_TARGETS
