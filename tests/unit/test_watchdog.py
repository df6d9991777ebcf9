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


def test_prometheus_text_parses_with_every_family_and_the_histogram() -> None:
    from prometheus_client.parser import text_string_to_metric_families

    metrics = Metrics(articles_enriched=3)
    for seconds in (0.01, 0.2, 0.2, 120.0):
        metrics.latency.observe(seconds)
    metrics.lag = {("statements", 1): 7}
    families = {f.name: f for f in text_string_to_metric_families(metrics.prometheus())}
    assert families["streams_articles_enriched"].type == "counter"
    assert families["streams_stalled_partitions"].type == "gauge"
    buckets = {
        s.labels["le"]: s.value
        for s in families["streams_processing_latency_seconds"].samples
        if s.name.endswith("_bucket")
    }
    assert buckets["0.05"] == 1 and buckets["0.25"] == 3 and buckets["60"] == 3
    assert buckets["+Inf"] == 4
    (lag,) = families["streams_consumer_lag"].samples
    assert lag.labels == {"topic": "statements", "partition": "1"} and lag.value == 7
    # a stage with no dead letter yet still shows the family
    (dead,) = families["streams_dead_letters"].samples
    assert dead.labels == {"stage": "decode"} and dead.value == 0
