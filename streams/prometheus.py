"""The Prometheus text exposition format, shared by the worker and the feed ingester."""

from __future__ import annotations

from collections.abc import Sequence


def exposition(
    name: str, kind: str, help_text: str, samples: Sequence[tuple[str, float]]
) -> list[str]:
    """One metric family in the Prometheus text format, its name prefixed ``streams_``."""
    lines = [f"# HELP streams_{name} {help_text}", f"# TYPE streams_{name} {kind}"]
    lines.extend(f"streams_{name}{labels} {value}" for labels, value in samples)
    return lines
