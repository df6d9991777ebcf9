"""What a poll of a feed did, item by item, and the ingester's counters over its life.

Every entry of a feed lands in exactly one of four counts: **new** (produced to
``articles.raw`` and recorded in ``ingest.seen``), **duplicate** (recorded in an earlier poll),
**skipped** (not produced, for a reason that will not change: recorded, or rejected as
unreadable) and **errors** (not produced for now, retried at a later poll). So
``new + duplicate + skipped + errors == items`` for every poll of every feed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import Metric

from streams.prometheus import counter, counter_by, exposition


@dataclass
class FeedSummary:
    """What one poll of one feed did."""

    name: str
    url: str
    items: int = 0  # entries in the feed document read at this poll
    new: int = 0
    duplicate: int = 0
    not_modified: bool = False
    error: str | None = None  # the feed itself failed
    warning: str | None = None  # the feed was read despite this fault
    skip_reasons: Counter[str] = field(default_factory=Counter)
    error_reasons: Counter[str] = field(default_factory=Counter)
    ignored: Counter[str] = field(default_factory=Counter)  # fields left out of items

    @property
    def skipped(self) -> int:
        return sum(self.skip_reasons.values())

    @property
    def errors(self) -> int:
        return sum(self.error_reasons.values())

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def accounted(self) -> bool:
        """Whether every item is counted once: new + duplicate + skipped + errors == items."""
        return self.new + self.duplicate + self.skipped + self.errors == self.items

    def line(self) -> str:
        text = (
            f"{self.name}: {self.new} new, {self.duplicate} duplicate, {self.skipped} skipped, "
            f"{self.errors} errors of {self.items} items"
        )
        if self.not_modified:
            text += " (not modified)"
        for label, counts in (
            ("skipped", self.skip_reasons),
            ("errors", self.error_reasons),
            ("ignored", self.ignored),
        ):
            if counts:
                text += f"; {label}: " + ", ".join(f"{r} ({n})" for r, n in sorted(counts.items()))
        if self.warning:
            text += f"; read despite: {self.warning}"
        if self.error:
            text += f"; failed: {self.error}"
        return text


@dataclass
class IngestMetrics:
    """Counters over the ingester's life, as Prometheus text."""

    polls: int = 0
    feed_errors: int = 0
    items: int = 0
    new: int = 0
    duplicate: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    ignored: Counter[str] = field(default_factory=Counter)

    def add(self, summary: FeedSummary) -> None:
        self.polls += 1
        self.feed_errors += summary.failed
        self.items += summary.items
        self.new += summary.new
        self.duplicate += summary.duplicate
        self.skipped.update(summary.skip_reasons)
        self.errors.update(summary.error_reasons)
        self.ignored.update(summary.ignored)

    def prometheus(self) -> str:
        return exposition(self.families)

    def families(self) -> Iterator[Metric]:
        yield counter("ingest_polls_total", "Feed polls.", self.polls)
        yield counter("ingest_feed_errors_total", "Polls whose feed failed.", self.feed_errors)
        yield counter("ingest_items_total", "Items read in feeds.", self.items)
        yield counter("ingest_items_new_total", "Items produced to articles.raw.", self.new)
        yield counter("ingest_items_duplicate_total", "Items seen before.", self.duplicate)
        yield counter_by(
            "ingest_items_skipped_total",
            "Items skipped, by reason.",
            "reason",
            self.skipped,
            empty="no usable text",
        )
        yield counter_by(
            "ingest_item_errors_total",
            "Items that failed for now (retried), by reason.",
            "reason",
            self.errors,
            empty="page timed out",
        )
        yield counter_by(
            "ingest_item_fields_ignored_total",
            "Item fields that could not be read and were left out, by reason.",
            "reason",
            self.ignored,
            empty="date unreadable",
        )
