"""``StreamsApp``: the Faust app and the parts the agents, views and tests reach for.

A module of its own, below the agents and views that take it and the factory that builds it
(:func:`streams.app.factory.create_app`), so that none of them imports another back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import faust

from streams.app.metrics import Metrics
from streams.app.runner import EnrichRunner
from streams.nlp.registry import SpeakerRegistry
from streams.records import KnownSpeaker
from streams.settings import Settings


@dataclass
class StreamsApp:
    """The app and the parts the agents, views and tests reach for."""

    settings: Settings
    app: faust.App
    raw: faust.TopicT
    enriched: faust.TopicT
    statements: faust.TopicT
    deadletter: faust.TopicT
    unidentified: faust.TopicT
    by_article: faust.TopicT
    tallies: faust.TopicT
    speakers: faust.Table[str, Any]
    ledger: faust.Table[str, Any]
    quotations: faust.Table[str, Any]
    quotation_index: faust.Table[str, Any]
    timeline: dict[str, Any]
    registry_table: faust.Table[str, Any]
    versions: faust.Table[str, Any]
    aliases: faust.Table[str, Any]
    merges: faust.TopicT
    runner: EnrichRunner
    metrics: Metrics = field(default_factory=Metrics)
    _registry: SpeakerRegistry | None = None

    def registry(self) -> SpeakerRegistry:
        """The speaker registry: built from the global table once, then kept in step with it
        entry by entry (:meth:`registry_changed`), never rebuilt."""
        if self._registry is None:
            self._registry = SpeakerRegistry(
                KnownSpeaker.model_validate_json(v) for v in self.registry_table.values() if v
            )
        return self._registry

    def registry_if_built(self) -> SpeakerRegistry | None:
        """The registry, if this worker has needed it yet (only the enrich agent does)."""
        return self._registry

    def registry_changed(self, changes: Iterable[tuple[str, Any]]) -> None:
        """Entries another worker (or this one) wrote, as the global table read them."""
        if self._registry is None:
            return  # built from the table, with these, when first asked for
        for _, value in changes:
            if value:
                self._registry.put(KnownSpeaker.model_validate_json(value))
