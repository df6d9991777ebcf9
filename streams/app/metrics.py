"""Counters of what the worker did, served as JSON (``/health/``) and Prometheus text
(``/metrics/``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Metrics:
    """Process-local counters (one worker); Prometheus sums them across workers."""

    articles_enriched: int = 0
    statements_published: int = 0
    statements_counted: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)
    stalled_partitions: int = 0
    stalls_reported: int = 0
    recovery_remaining: int = 0

    def snapshot(self) -> dict[str, object]:
        return {
            "articles_enriched": self.articles_enriched,
            "statements_published": self.statements_published,
            "statements_counted": self.statements_counted,
            "dead_letters": dict(self.dead_letters),
            "stalled_partitions": self.stalled_partitions,
            "stalls_reported": self.stalls_reported,
            "recovery_remaining": self.recovery_remaining,
        }

    def prometheus(self) -> str:
        """The counters in the Prometheus text exposition format."""
        lines = []

        def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, int]]) -> None:
            lines.append(f"# HELP streams_{name} {help_text}")
            lines.append(f"# TYPE streams_{name} {kind}")
            lines.extend(f"streams_{name}{labels} {value}" for labels, value in samples)

        metric(
            "articles_enriched_total",
            "counter",
            "Articles enriched.",
            [("", self.articles_enriched)],
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
        return "\n".join(lines) + "\n"
