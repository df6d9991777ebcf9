"""The Prometheus text exposition, through ``prometheus_client``: the worker's and the feed
ingester's counters as metric families, every name prefixed ``streams_``.

The counters themselves stay plain fields that the agents add to; :func:`exposition` turns
the families a ``collect`` function makes from them into the text format, through a registry
of its own (never the library's process-wide default one).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

PREFIX = "streams_"
#: The /metrics routes answer with this content type (the text format, version 0.0.4).
CONTENT_TYPE = "text/plain"

Families = Callable[[], Iterable[Metric]]


class _Collector(Collector):
    def __init__(self, families: Families) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families()


def exposition(families: Families) -> str:
    """The families in the Prometheus text exposition format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(families))
    return generate_latest(registry).decode("utf-8")


def counter(name: str, help_text: str, value: float) -> CounterMetricFamily:
    """A counter ``streams_<name>`` (``name`` ends in ``_total``)."""
    return CounterMetricFamily(PREFIX + name, help_text, value=value)


def counter_by(
    name: str, help_text: str, label: str, values: Mapping[str, float], empty: str
) -> CounterMetricFamily:
    """A counter ``streams_<name>`` per value of ``label``; ``empty`` at 0 while there is
    none yet, so that the family shows from the start."""
    family = CounterMetricFamily(PREFIX + name, help_text, labels=[label])
    for key, n in sorted(values.items()) or [(empty, 0)]:
        family.add_metric([key], n)
    return family


def gauge(name: str, help_text: str, value: float) -> GaugeMetricFamily:
    """A gauge ``streams_<name>``."""
    return GaugeMetricFamily(PREFIX + name, help_text, value=value)


def gauge_by(
    name: str, help_text: str, labels: Sequence[str], values: Mapping[tuple[str, ...], float]
) -> GaugeMetricFamily:
    """A gauge ``streams_<name>`` per tuple of ``labels`` values."""
    family = GaugeMetricFamily(PREFIX + name, help_text, labels=list(labels))
    for key, n in sorted(values.items()):
        family.add_metric(list(key), n)
    return family


def histogram(
    name: str, help_text: str, buckets: Sequence[tuple[float, int]], count: int, total: float
) -> HistogramMetricFamily:
    """A histogram ``streams_<name>`` from cumulative counts under each upper bound."""
    rows = [(f"{bound:g}", float(n)) for bound, n in buckets] + [("+Inf", float(count))]
    return HistogramMetricFamily(PREFIX + name, help_text, buckets=rows, sum_value=total)
