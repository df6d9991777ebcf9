"""Counters of what the worker did, served as JSON (``/health/``) and Prometheus text
(``/metrics/``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from prometheus_client.core import Metric

from streams.prometheus import counter, counter_by, exposition, gauge, gauge_by, histogram

#: Upper bounds (seconds) of the processing-latency histogram's buckets.
LATENCY_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass
class Histogram:
    """Counts under each of fixed upper bounds (cumulative), their sum and count: a
    Prometheus histogram's figures (exposed by :func:`streams.prometheus.histogram`)."""

    buckets: Sequence[float] = LATENCY_BUCKETS
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * len(self.buckets)

    def observe(self, value: float) -> None:
        self.count += 1
        self.total += value
        for n, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[n] += 1


@dataclass
class Metrics:
    """Process-local counters (one worker); Prometheus sums them across workers."""

    articles_enriched: int = 0
    batches_enriched: int = 0  # spaCy batches run: articles_enriched / batches = batch fill
    statements_published: int = 0
    statements_counted: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)
    stalled_partitions: int = 0
    stalls_reported: int = 0
    partitions_reread: int = 0
    recovery_remaining: int = 0
    articles_pushed: int = 0
    event_streams: int = 0  # /statements/stream connections open now
    speakers_merged: int = 0
    #: seconds the quotation step took (identifying quotations before ``statements``,
    #: counting them and the timeline in the aggregate): wall-clock, and CPU of the thread
    quotation_seconds: float = 0.0
    quotation_cpu_seconds: float = 0.0
    latency: Histogram = field(default_factory=Histogram)
    #: (topic, partition) → records behind the end of the partition; set by the web view
    lag: Mapping[tuple[str, int], int] = field(default_factory=dict)

    def snapshot(self) -> dict[str, object]:
        return {
            "articles_enriched": self.articles_enriched,
            "batches_enriched": self.batches_enriched,
            "statements_published": self.statements_published,
            "statements_counted": self.statements_counted,
            "dead_letters": dict(self.dead_letters),
            "stalled_partitions": self.stalled_partitions,
            "stalls_reported": self.stalls_reported,
            "partitions_reread": self.partitions_reread,
            "recovery_remaining": self.recovery_remaining,
            "articles_pushed": self.articles_pushed,
            "event_streams": self.event_streams,
            "speakers_merged": self.speakers_merged,
            "quotation_seconds": round(self.quotation_seconds, 4),
            "quotation_cpu_seconds": round(self.quotation_cpu_seconds, 4),
            "latency_seconds": {
                "count": self.latency.count,
                "mean": round(self.latency.total / self.latency.count, 4)
                if self.latency.count
                else None,
            },
            "consumer_lag": {f"{t}:{p}": n for (t, p), n in sorted(self.lag.items())},
        }

    def prometheus(self) -> str:
        """The counters in the Prometheus text exposition format."""
        return exposition(self.families)

    def families(self) -> Iterator[Metric]:
        yield counter("articles_enriched_total", "Articles enriched.", self.articles_enriched)
        yield counter(
            "batches_enriched_total",
            "Batches of articles sent through spaCy (articles / batches: how full they are).",
            self.batches_enriched,
        )
        yield counter(
            "statements_published_total", "Statements published.", self.statements_published
        )
        yield counter(
            "statements_counted_total", "Statements counted in the table.", self.statements_counted
        )
        yield counter_by(
            "dead_letters_total",
            "Inputs sent to the dead-letter topic.",
            "stage",
            self.dead_letters,
            empty="decode",
        )
        yield gauge(
            "stalled_partitions",
            "Partitions with records waiting and no progress.",
            self.stalled_partitions,
        )
        yield counter(
            "partitions_reread_total",
            "Partitions sought back to re-read records the consumer dropped.",
            self.partitions_reread,
        )
        yield counter(
            "stalls_reported_total", "Stalls reported by the watchdog.", self.stalls_reported
        )
        yield gauge(
            "table_recovery_remaining",
            "Changelog records left to recover.",
            self.recovery_remaining,
        )
        yield counter(
            "articles_pushed_total", "Articles received on POST /articles.", self.articles_pushed
        )
        yield gauge(
            "event_streams",
            "GET /statements/stream connections open, each holding a Kafka consumer.",
            self.event_streams,
        )
        yield counter(
            "speakers_merged_total",
            "Speaker ids found to be another speaker (sent to speaker.merges).",
            self.speakers_merged,
        )
        yield counter(
            "quotation_seconds_total",
            "Seconds (wall-clock) spent identifying statements as quotations and counting "
            "them and the timeline buckets.",
            round(self.quotation_seconds, 4),
        )
        yield counter(
            "quotation_cpu_seconds_total",
            "CPU seconds of the event loop's thread spent identifying statements as quotations "
            "and counting them and the timeline buckets.",
            round(self.quotation_cpu_seconds, 4),
        )
        yield histogram(
            "processing_latency_seconds",
            "Seconds from an article's produce timestamp to its enrichment being published.",
            list(zip(self.latency.buckets, self.latency.counts, strict=True)),
            self.latency.count,
            self.latency.total,
        )
        yield gauge_by(
            "consumer_lag",
            "Records after the group's committed offset, on every partition of the topics the "
            "agents read (whichever worker holds it).",
            ("topic", "partition"),
            {(topic, str(partition)): n for (topic, partition), n in self.lag.items()},
        )
