"""Counters of what the worker did, served as JSON (``/health/``) and Prometheus text
(``/metrics/``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from streams.prometheus import exposition

#: Upper bounds (seconds) of the processing-latency histogram's buckets.
LATENCY_BUCKETS: tuple[float, ...] = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass
class Histogram:
    """A cumulative Prometheus histogram with fixed buckets."""

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

    def samples(self) -> list[tuple[str, float]]:
        rows: list[tuple[str, float]] = [
            (f'_bucket{{le="{bound:g}"}}', n)
            for bound, n in zip(self.buckets, self.counts, strict=True)
        ]
        rows.append(('_bucket{le="+Inf"}', self.count))
        rows.append(("_sum", round(self.total, 6)))
        rows.append(("_count", self.count))
        return rows


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
    #: seconds the aggregate spent counting statements as quotations and in the timeline
    quotation_seconds: float = 0.0
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
        lines: list[str] = []

        def metric(
            name: str, kind: str, help_text: str, samples: Sequence[tuple[str, float]]
        ) -> None:
            lines.extend(exposition(name, kind, help_text, samples))

        metric(
            "articles_enriched_total",
            "counter",
            "Articles enriched.",
            [("", self.articles_enriched)],
        )
        metric(
            "batches_enriched_total",
            "counter",
            "Batches of articles sent through spaCy (articles / batches: how full they are).",
            [("", self.batches_enriched)],
        )
        metric(
            "statements_published_total",
            "counter",
            "Statements published.",
            [("", self.statements_published)],
        )
        metric(
            "statements_counted_total",
            "counter",
            "Statements counted in the table.",
            [("", self.statements_counted)],
        )
        metric(
            "dead_letters_total",
            "counter",
            "Inputs sent to the dead-letter topic.",
            [(f'{{stage="{stage}"}}', n) for stage, n in sorted(self.dead_letters.items())]
            or [('{stage="decode"}', 0)],
        )
        metric(
            "stalled_partitions",
            "gauge",
            "Partitions with records waiting and no progress.",
            [("", self.stalled_partitions)],
        )
        metric(
            "partitions_reread_total",
            "counter",
            "Partitions sought back to re-read records the consumer dropped.",
            [("", self.partitions_reread)],
        )
        metric(
            "stalls_reported_total",
            "counter",
            "Stalls reported by the watchdog.",
            [("", self.stalls_reported)],
        )
        metric(
            "table_recovery_remaining",
            "gauge",
            "Changelog records left to recover.",
            [("", self.recovery_remaining)],
        )
        metric(
            "articles_pushed_total",
            "counter",
            "Articles received on POST /articles.",
            [("", self.articles_pushed)],
        )
        metric(
            "event_streams",
            "gauge",
            "GET /statements/stream connections open, each holding a Kafka consumer.",
            [("", self.event_streams)],
        )
        metric(
            "speakers_merged_total",
            "counter",
            "Speaker ids found to be another speaker (sent to speaker.merges).",
            [("", self.speakers_merged)],
        )
        metric(
            "quotation_seconds_total",
            "counter",
            "Seconds spent counting statements as quotations and in the timeline buckets.",
            [("", round(self.quotation_seconds, 4))],
        )
        metric(
            "processing_latency_seconds",
            "histogram",
            "Seconds from an article's produce timestamp to its enrichment being published.",
            self.latency.samples(),
        )
        metric(
            "consumer_lag",
            "gauge",
            "Records after the group's committed offset, on every partition of the topics the "
            "agents read (whichever worker holds it).",
            [
                (f'{{topic="{topic}",partition="{partition}"}}', n)
                for (topic, partition), n in sorted(self.lag.items())
            ],
        )
        return "\n".join(lines) + "\n"
