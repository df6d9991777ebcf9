"""The worker's HTTP API and dashboard, on Faust's web server (aiohttp underneath).

=========================== =====================================================================
``GET /``                   the dashboard (one static page, no build step)
``GET /speakers``           the aggregate, gathered from every worker: ``sort``, ``order``,
                            ``limit``, ``offset``, ``type``, ``q`` (name or alias contains)
``GET /speakers/{id}``      one speaker: summary, stance per target, recent statements; routed
                            to the worker that owns the speaker's table partition
``GET /statements/stream``  Server-Sent Events of new statements (``speaker`` filter), resumable
                            with ``Last-Event-ID``
``POST /articles``          push ingestion: off unless ``STREAMS_PUSH_TOKEN`` is set
``GET /health``             liveness, recovery, counters
``GET /metrics``            Prometheus text
``GET /openapi.json``       the OpenAPI 3.1 description of the above
=========================== =====================================================================

Any worker answers any request: ``/speakers/{id}`` is forwarded to the partition's owner by
Faust's table router, ``/speakers`` asks every worker named in the group's assignment for its
share (``?local=1``), and ``/statements/stream`` reads the ``statements`` topic itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import ClientError, ClientTimeout, web
from aiokafka import TopicPartition
from aiokafka.partitioner import murmur2
from pydantic import ValidationError

from streams.app.openapi import openapi
from streams.codec import dumps
from streams.ids import article_id
from streams.kafka.clients import consumer, stop_consumer, topic_partitions
from streams.records import Article, SpeakerState

if TYPE_CHECKING:
    import faust

    from streams.app.factory import StreamsApp

log = logging.getLogger(__name__)

SORT_KEYS = ("statements", "articles", "name", "last_seen", "first_seen")
MAX_LIMIT = 1000
TOP_TARGETS = 5
HEARTBEAT_SECONDS = 15.0
_JSON = "application/json"


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type=_JSON, headers=headers)


def _problem(status: int, detail: str, headers: dict[str, str] | None = None) -> web.Response:
    return _json({"status": status, "error": detail}, status=status, headers=headers)


# --- the aggregate --------------------------------------------------------------------------


def stance_rows(stances: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """Stances per target, most-mentioned first, with a net score in [-1, 1]."""
    rows = []
    for target, counts in stances.items():
        favor, against, neutral = counts["favor"], counts["against"], counts["neutral"]
        total = favor + against + neutral
        rows.append(
            {
                "target": target,
                "favor": favor,
                "against": against,
                "neutral": neutral,
                "total": total,
                "net": round((favor - against) / total, 3) if total else 0.0,
            }
        )
    return sorted(rows, key=lambda r: (-r["total"], r["target"]))


def _owned(parts: StreamsApp) -> Callable[[str], bool]:
    """Whether this worker owns a key's table partition (not just a standby copy of it).

    The partition is computed as the producer's default partitioner does (murmur2 of the
    key, Kafka's own), from the configured partition count: the producer's metadata may not
    know the changelog topic yet right after a start.
    """
    app = parts.app
    topic = parts.speakers.changelog_topic.get_topic_name()
    count = parts.settings.partitions
    try:
        actives = {tp.partition for tp in app.assignor.assigned_actives() if tp.topic == topic}
    except (AttributeError, RuntimeError):  # no assignment (a test context): all are ours
        return lambda key: True

    def owned(key: str) -> bool:
        return (murmur2(key.encode("utf-8")) & 0x7FFFFFFF) % count in actives

    return owned


def local_summaries(parts: StreamsApp) -> list[dict[str, Any]]:
    """The summaries in this worker's active table partitions, without recent statements.

    Standby replicas of other workers' partitions live in the same table: they are left out,
    or a merged listing would count their speakers twice.
    """
    out = []
    owned = _owned(parts)
    for key, value in list(parts.speakers.items()):
        if value is None or not owned(key):
            continue
        summary = SpeakerState.model_validate(value).summary.model_dump(mode="json")
        summary.pop("recent", None)
        summary["top_stances"] = stance_rows(summary.pop("stances"))[:TOP_TARGETS]
        out.append(summary)
    return out


def _sorted_page(items: list[dict[str, Any]], query: Any) -> dict[str, Any]:
    sort = query.get("sort", "statements")
    if sort not in SORT_KEYS:
        raise web.HTTPBadRequest(reason=f"sort must be one of {', '.join(SORT_KEYS)}")
    order = query.get("order", "asc" if sort == "name" else "desc")
    if order not in ("asc", "desc"):
        raise web.HTTPBadRequest(reason="order must be asc or desc")
    try:
        limit = int(query.get("limit", 50))
        offset = int(query.get("offset", 0))
    except ValueError as exc:
        raise web.HTTPBadRequest(reason="limit and offset must be integers") from exc
    if not (0 <= limit <= MAX_LIMIT and offset >= 0):
        raise web.HTTPBadRequest(reason=f"limit must be 0..{MAX_LIMIT}, offset >= 0")
    wanted_type = query.get("type")
    needle = (query.get("q") or "").casefold()
    if wanted_type:
        items = [s for s in items if s["type"] == wanted_type]
    if needle:
        items = [
            s
            for s in items
            if needle in s["name"].casefold() or any(needle in a.casefold() for a in s["aliases"])
        ]
    # ties broken by name, then id, so pages are stable
    items.sort(key=lambda s: (s["name"], s["id"]))
    items.sort(key=lambda s: s[sort], reverse=order == "desc")
    return {
        "total": len(items),
        "offset": offset,
        "limit": limit,
        "sort": sort,
        "order": order,
        "items": items[offset : offset + limit],
    }


def _ident(url: Any) -> tuple[str, int]:
    from yarl import URL

    parsed = URL(str(url))
    return (parsed.host or "", int(parsed.port or 80))


async def _gather(parts: StreamsApp) -> tuple[list[dict[str, Any]], list[str]]:
    """Every worker's summaries; the URLs of workers that did not answer."""
    app = parts.app
    items = local_summaries(parts)
    own = _ident(app.conf.canonical_url)
    try:
        hosts = list(app.router.table_metadata(parts.speakers.name))
    except (KeyError, AttributeError):
        hosts = []
    others = [h for h in hosts if _ident(h) != own]
    missing: list[str] = []

    async def ask(host: str) -> None:
        url = f"{str(host).rstrip('/')}/speakers?local=1"
        try:
            async with app.http_client.get(url, timeout=ClientTimeout(total=5)) as response:
                response.raise_for_status()
                items.extend(orjson.loads(await response.read()))
        except (ClientError, TimeoutError, orjson.JSONDecodeError) as exc:
            log.warning("worker %s did not answer for /speakers: %s", host, exc)
            missing.append(str(host))

    await asyncio.gather(*(ask(h) for h in others))
    return items, missing


# --- the event stream -------------------------------------------------------------------------


def parse_event_id(value: str | None) -> dict[int, int]:
    """``"0-13.1-5"`` → ``{0: 13, 1: 5}`` (partition → next offset); junk gives ``{}``."""
    positions: dict[int, int] = {}
    for part in (value or "").split("."):
        partition, sep, offset = part.partition("-")
        if sep and partition.isdigit() and offset.isdigit():
            positions[int(partition)] = int(offset)
    return positions


def format_event_id(positions: dict[int, int]) -> str:
    return ".".join(f"{p}-{o}" for p, o in sorted(positions.items()))


class _Streams:
    """Counts open event streams, so that one worker does not open unbounded consumers."""

    def __init__(self) -> None:
        self.open = 0


async def statement_stream(
    parts: StreamsApp, request: web.Request, streams: _Streams
) -> web.StreamResponse:
    settings = parts.settings
    if streams.open >= settings.stream_limit:
        return _problem(503, f"{streams.open} event streams open (STREAMS_STREAM_LIMIT)")
    speaker = request.query.get("speaker")
    resume = parse_event_id(
        request.headers.get("Last-Event-ID") or request.query.get("last_event_id")
    )
    topic = settings.topic("statements")
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
        }
    )
    streams.open += 1
    client = consumer(settings)
    try:
        await client.start()
        tps = [TopicPartition(topic, p) for p in sorted(await topic_partitions(settings, topic))]
        client.assign(tps)
        await client.seek_to_end(*tps)
        for tp in tps:
            if tp.partition in resume:
                client.seek(tp, resume[tp.partition])
        positions = {tp.partition: await client.position(tp) for tp in tps}
        await response.prepare(request)
        await response.write(b"retry: 3000\n: connected\n\n")
        idle = 0.0
        while True:
            batch = await client.getmany(timeout_ms=1000, max_records=200)
            if not batch:
                idle += 1.0
                if idle >= HEARTBEAT_SECONDS:
                    await response.write(b": keep-alive\n\n")
                    idle = 0.0
                continue
            idle = 0.0
            for tp, records in batch.items():
                for record in records:
                    positions[tp.partition] = record.offset + 1
                    key = record.key.decode("utf-8", "replace") if record.key else None
                    if speaker and key != speaker:
                        continue
                    data = (record.value or b"{}").replace(b"\n", b" ")
                    event = f"id: {format_event_id(positions)}\nevent: statement\ndata: "
                    await response.write(event.encode() + data + b"\n\n")
    except (ConnectionResetError, asyncio.CancelledError):
        pass  # the client went away, or the worker stops
    finally:
        streams.open -= 1
        with contextlib.suppress(Exception):
            await stop_consumer(client)
    return response


# --- push ingestion ---------------------------------------------------------------------------


async def push_article(parts: StreamsApp, request: web.Request) -> web.Response:
    settings = parts.settings
    if settings.push_token is None:
        return _problem(403, "push ingestion is off; set STREAMS_PUSH_TOKEN to turn it on")
    given = request.headers.get("Authorization", "")
    expected = f"Bearer {settings.push_token.get_secret_value()}"
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return _problem(401, "a valid bearer token is required", {"WWW-Authenticate": "Bearer"})
    limit = settings.push_max_bytes
    if request.content_length is not None and request.content_length > limit:
        return _problem(413, f"the body is over {limit} bytes (STREAMS_PUSH_MAX_BYTES)")
    body = await request.content.read(limit + 1)
    if len(body) > limit:
        return _problem(413, f"the body is over {limit} bytes (STREAMS_PUSH_MAX_BYTES)")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return _problem(400, f"the body is not JSON: {exc}")
    if not isinstance(data, dict):
        return _problem(422, "the body must be a JSON object with at least a text field")
    if not data.get("article_id") and isinstance(data.get("text"), str):
        data["article_id"] = article_id(url=data.get("url"), text=data["text"])
    try:
        article = Article.model_validate(data)
    except ValidationError as exc:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        return _json({"status": 422, "error": "not a valid Article", "fields": errors}, 422)
    if not article.text.strip():
        return _problem(422, "the article has no text")
    await parts.raw.send(key=article.article_id.encode(), value=dumps(article))
    parts.metrics.articles_pushed += 1
    return _json({"article_id": article.article_id, "topic": parts.raw.get_topic_name()}, 202)


# --- health and metrics -----------------------------------------------------------------------


def consumer_lag(app: faust.App) -> dict[tuple[str, int], int]:
    """Records between the last one read and the end, per source partition (not changelogs)."""
    monitor = app.monitor
    read = monitor.tp_read_offsets
    lag = {}
    for tp, end in monitor.tp_end_offsets.items():
        if tp.topic.endswith("-changelog"):
            continue
        last = read.get(tp)
        lag[(tp.topic, tp.partition)] = max(0, end - (last + 1 if last is not None else 0))
    return lag


def register_views(parts: StreamsApp) -> None:
    app = parts.app
    streams = _Streams()
    page_html = resources.files("streams.app").joinpath("static/index.html").read_bytes()

    async def dashboard(self: Any, request: web.Request) -> web.Response:
        return web.Response(body=page_html, content_type="text/html", charset="utf-8")

    async def list_speakers(self: Any, request: web.Request) -> web.Response:
        if request.query.get("local"):
            return _json(local_summaries(parts))
        try:
            items, missing = await _gather(parts)
            page = _sorted_page(items, request.query)
        except web.HTTPBadRequest as exc:
            return _problem(400, exc.reason)
        if missing:
            page["partial"] = True
            page["missing_workers"] = missing
        return _json(page)

    async def one_speaker(self: Any, request: web.Request, speaker_id: str) -> web.Response:
        value = parts.speakers.get(speaker_id)
        if value is None:
            return _problem(404, f"no speaker {speaker_id!r}")
        summary = SpeakerState.model_validate(value).summary.model_dump(mode="json")
        summary["stances"] = stance_rows(summary["stances"])
        return _json(summary)

    async def stream(self: Any, request: web.Request) -> web.StreamResponse:
        return await statement_stream(parts, request, streams)

    async def push(self: Any, request: web.Request) -> web.Response:
        return await push_article(parts, request)

    async def health(self: Any, request: web.Request) -> web.Response:
        parts.metrics.lag = consumer_lag(app)
        # a partition with records waiting and no progress (the watchdog's verdict) makes
        # the worker unhealthy: a liveness probe restarts it
        stalled = parts.metrics.stalled_partitions > 0
        return _json(
            {
                "status": "stalled" if stalled else "ok",
                "app": parts.settings.app_id,
                "in_recovery": bool(app.in_recovery),
                "metrics": parts.metrics.snapshot(),
            },
            status=503 if stalled else 200,
        )

    async def metrics(self: Any, request: web.Request) -> web.Response:
        parts.metrics.lag = consumer_lag(app)
        return web.Response(
            text=parts.metrics.prometheus(), content_type="text/plain", charset="utf-8",
            headers={"X-Content-Type-Options": "nosniff"},
        )  # fmt: skip

    async def spec(self: Any, request: web.Request) -> web.Response:
        return _json(openapi())

    from faust.web import View

    def view(path: str, name: str, **methods: Any) -> None:
        cls = type(name, (View,), methods)
        app.page(path, name=name)(cls)

    view("/", "dashboard", get=dashboard)
    view("/dashboard", "dashboard_alias", get=dashboard)
    view("/speakers", "speakers", get=list_speakers)
    view("/speakers/", "speakers_slash", get=list_speakers)
    route = app.table_route(table=parts.speakers, match_info="speaker_id")
    routed = route(one_speaker)  # type: ignore[arg-type]
    view("/speakers/{speaker_id}", "speaker", get=routed)
    view("/statements/stream", "statement_stream", get=stream)
    view("/articles", "articles", post=push)
    view("/health", "health", get=health)
    view("/health/", "health_slash", get=health)
    view("/metrics", "metrics", get=metrics)
    view("/metrics/", "metrics_slash", get=metrics)
    view("/openapi.json", "openapi", get=spec)
