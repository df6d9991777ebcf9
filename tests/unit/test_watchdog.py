"""The liveness watchdog and the counters, without a broker."""

from typing import NamedTuple

from streams.app.metrics import Metrics
from streams.app.watchdog import Watchdog


class TP(NamedTuple):
    topic: str
    partition: int


A, B = TP("articles.raw", 0), TP("articles.raw", 1)


def test_a_partition_with_waiting_records_and_no_progress_is_reported_once() -> None:
    dog = Watchdog(timeout=30)
    assert dog.check({A: 4}, {A: 10}, now=0) == ([], 0)
    assert dog.check({A: 4}, {A: 10}, now=20) == ([], 0)
    stalls, stalled = dog.check({A: 4}, {A: 10}, now=31)
    assert stalled == 1
    (stall,) = stalls
    assert (stall.topic, stall.partition, stall.offset, stall.waiting) == ("articles.raw", 0, 4, 5)
    assert dog.check({A: 4}, {A: 10}, now=60) == ([], 1)  # still stalled, not reported again


def test_progress_or_an_empty_partition_is_not_a_stall() -> None:
    dog = Watchdog(timeout=30)
    dog.check({A: 4, B: 9}, {A: 10, B: 10}, now=0)
    stalls, stalled = dog.check({A: 6, B: 9}, {A: 10, B: 10}, now=100)
    assert stalls == [] and stalled == 0  # A moved on; B has nothing waiting


def test_a_partition_never_read_counts_from_minus_one() -> None:
    dog = Watchdog(timeout=5)
    dog.check({}, {A: 3}, now=0)
    (stall,), _ = dog.check({}, {A: 3}, now=6)
    assert stall.offset == -1 and stall.waiting == 3


def test_prometheus_text_has_help_type_and_samples() -> None:
    metrics = Metrics(articles_enriched=3)
    metrics.dead_letters["decode"] += 2
    text = metrics.prometheus()
    assert "# TYPE streams_articles_enriched_total counter" in text
    assert "streams_articles_enriched_total 3" in text
    assert 'streams_dead_letters_total{stage="decode"} 2' in text
    for line in text.splitlines():
        assert line.startswith("#") or len(line.split()) == 2
