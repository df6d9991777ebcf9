"""The worker's web views (Faust's web server): the speakers table and health.

``GET /speakers/`` lists the summaries this worker holds (all of them with one worker);
``GET /health/`` answers 200 once the worker runs, with the worker's counters;
``GET /metrics/`` serves the same counters as Prometheus text. Table routing across several
workers and the rest of the API come with the HTTP API issue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from streams.records import SpeakerState

if TYPE_CHECKING:
    from streams.app.factory import StreamsApp


def summaries(parts: StreamsApp) -> list[dict[str, Any]]:
    """The table's speaker summaries, most statements first."""
    out = [
        SpeakerState.model_validate(value).summary.model_dump(mode="json")
        for value in parts.speakers.values()
        if value is not None
    ]
    return sorted(out, key=lambda s: (-s["statements"], s["name"]))


def register_views(parts: StreamsApp) -> None:
    app = parts.app

    @app.page("/speakers/")
    async def speakers(web: Any, request: Any) -> Any:
        return web.json(summaries(parts))

    @app.page("/health/")
    async def health(web: Any, request: Any) -> Any:
        return web.json(
            {
                "status": "ok",
                "app": parts.settings.app_id,
                "in_recovery": bool(app.in_recovery),
                "metrics": parts.metrics.snapshot(),
            }
        )

    @app.page("/metrics/")
    async def metrics(web: Any, request: Any) -> Any:
        return web.text(parts.metrics.prometheus(), content_type="text/plain; version=0.0.4")
