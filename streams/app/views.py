"""The worker's HTTP API and dashboard, on Faust's web server (aiohttp underneath).

=========================== =====================================================================
``GET /``                   the dashboard (one static page, no build step)
``GET /speakers``           the aggregate, gathered from every worker: ``sort``, ``order``,
                            ``limit``, ``offset``, ``type``, ``q`` (name or alias contains);
                            ``partial`` with the partitions missing while some are
``GET /speakers/{id}``      one speaker: summary, stance per target, recent statements; routed
                            to the worker that owns the speaker's table partition; 308 for a
                            merged id, 503 while its partition cannot answer
``GET /speakers/{id}/...``  ``/timeline``: the speaker's ``hour`` or ``day`` buckets
                            (``bucket``): statements, quotations, stances, by the articles'
                            time (:mod:`streams.app.timeline`); routed like the speaker
``GET /quotations``         one speaker's quotations (``speaker``, required): the same words in
                            any outlet, with occurrences, articles and outlets; paged and
                            sorted like ``/speakers``; routed to the speaker's partition owner
``GET /statements/stream``  Server-Sent Events of new statements (``speaker`` filter), resumable
                            with ``Last-Event-ID`` (:mod:`streams.app.events`)
``POST /articles``          push ingestion: off unless ``STREAMS_PUSH_TOKEN`` is set
                            (:mod:`streams.app.push`)
``GET /health``             liveness, recovery, counters
``GET /metrics``            Prometheus text
``GET /openapi.json``       the OpenAPI 3.1 description of the above
=========================== =====================================================================

Any worker answers any request: ``/speakers/{id}``, its timeline and ``/quotations`` are
forwarded to the owner of the speaker's table partition (located by Faust's router, passed on
as the owner answers), ``/speakers`` asks every worker named in the group's assignment for its
share (``?local=1``), and ``/statements/stream`` reads the ``statements`` topic itself.
What every answer carries and what is refused before routing: :mod:`streams.app.guard`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

import orjson
from aiohttp import ClientError, ClientTimeout, web
from aiokafka.errors import KafkaError
from faust.web.exceptions import ServiceUnavailable

from streams.app import guard
from streams.app.events import Streams, statement_stream
from streams.app.openapi import openapi
from streams.app.paging import BadQuery, paging, quotation_page
from streams.app.push import push_article
from streams.app.responses import json_response as _json
from streams.app.responses import problem as _problem
from streams.app.tables import prefixed
from streams.app.timeline import BUCKETS, buckets
from streams.app.versions import key_partition
from streams.kafka.lag import group_lag
from streams.prometheus import CONTENT_TYPE
from streams.records import SpeakerMerge, SpeakerState, utcnow

if TYPE_CHECKING:
    import faust

    from streams.app.parts import StreamsApp
    from streams.settings import Settings

log = logging.getLogger(__name__)

SORT_KEYS = ("statements", "articles", "name", "last_seen", "first_seen")
TOP_TARGETS = 5


# --- the aggregate --------------------------------------------------------------------------

#: Seconds a client is asked to wait before asking again for a partition without an answer.
RETRY_AFTER = 5


def _unavailable(partition: int, why: str) -> web.Response:
    return _problem(
        503,
        f"speakers in table partition {partition} cannot be read now: {why}",
        {"Retry-After": str(RETRY_AFTER)},
    )


def _moved(into: str, request: web.Request | None = None) -> web.Response:
    """308 to the speaker a merged id is now: its page, or (``request``: a timeline or
    ``/quotations``) the same question about it."""
    response = _json({"status": 308, "merged_into": into}, status=308)
    location = f"/speakers/{quote(into, safe=':')}"
    if request is not None and request.path.endswith("/timeline"):
        query = request.query_string
        location = f"{location}/timeline" + (f"?{query}" if query else "")
    elif request is not None and request.path == "/quotations":
        location = str(request.rel_url.update_query(speaker=into))
    response.headers["Location"] = location
    return response


def merged_into(parts: StreamsApp, speaker_id: str) -> str | None:
    """The speaker a merged id is now (the alias table, followed to its end), else None."""
    seen = {speaker_id}
    into = None
    while (value := parts.aliases.get(speaker_id)) is not None:
        speaker_id = SpeakerMerge.model_validate_json(value).into
        if speaker_id in seen:
            break
        seen.add(speaker_id)
        into = speaker_id
    return into


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


def partition_of(parts: StreamsApp, key: str) -> int:
    """The table partition of ``key``, as the producer's default partitioner computes it,
    from the configured partition count: the producer's metadata may not know the changelog
    topic yet right after a start."""
    return key_partition(key, parts.settings.partitions)


def _actives(parts: StreamsApp) -> set[int] | None:
    """The table partitions this worker owns (not standby copies); None without an
    assignment (a test context: all are its own)."""
    topic = parts.speakers.changelog_topic.get_topic_name()
    try:
        return {tp.partition for tp in parts.app.assignor.assigned_actives() if tp.topic == topic}
    except (AttributeError, RuntimeError):  # no assignment (a test context): all are ours
        return None


def recovering(parts: StreamsApp) -> set[int]:
    """The table partitions this worker owns whose state is still being read back from the
    changelog (after a start or a rebalance): what they hold is not all there yet. Faust
    says when its active tables are up to date (``actives_ready``, reset at every
    rebalance); until then, every partition this worker owns."""
    if getattr(parts.app.tables, "actives_ready", True):
        return set()
    actives = _actives(parts)
    return actives if actives is not None else set()


def local_summaries(parts: StreamsApp) -> dict[str, Any]:
    """The summaries in this worker's active table partitions, without recent statements,
    and which partitions those are (``partitions``) and which of them are still recovering.

    Standby replicas of other workers' partitions live in the same table: they are left out,
    or a merged listing would count their speakers twice; so are merged ids.
    """
    out = []
    actives = _actives(parts)
    for key, value in list(parts.speakers.items()):
        if value is None or (actives is not None and partition_of(parts, key) not in actives):
            continue
        state = SpeakerState.model_validate_json(value)
        if state.merged_into is not None:
            continue
        summary = state.summary.model_dump(mode="json")
        summary.pop("recent", None)
        summary["top_stances"] = stance_rows(summary.pop("stances"))[:TOP_TARGETS]
        out.append(summary)
    owned = sorted(actives) if actives is not None else list(range(parts.settings.partitions))
    return {"items": out, "partitions": owned, "recovering": sorted(recovering(parts))}


def _sorted_page(items: list[dict[str, Any]], query: Any) -> dict[str, Any]:
    try:
        p = paging(query, SORT_KEYS, ascending=("name",))
    except BadQuery as exc:
        raise web.HTTPBadRequest(reason=str(exc)) from exc
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
    items.sort(key=lambda s: s[p.sort], reverse=p.order == "desc")
    return p.page(items)


def _ident(url: Any) -> tuple[str, int]:
    from yarl import URL

    parsed = URL(str(url))
    return (parsed.host or "", int(parsed.port or 80))


def _owner(parts: StreamsApp, speaker_id: str) -> tuple[str, int] | None:
    """``(host, port)`` of the worker that owns ``speaker_id``'s table partition, None when it
    is this worker; :class:`ServiceUnavailable` while no worker does."""
    app = parts.app
    try:
        owner = _ident(app.router.key_store(parts.speakers.name, speaker_id))
    except (KeyError, TypeError):  # TypeError: before the group's first assignment
        raise ServiceUnavailable() from None
    return None if owner == _ident(app.conf.canonical_url) else owner


async def _forward(parts: StreamsApp, request: web.Request, owner: tuple[str, int]) -> web.Response:
    """The owner's answer to ``request``, passed on as it is: status, body and the headers a
    client acts on. (Faust's table router follows the owner's redirects and drops its
    headers, so a merged id answered 200 with the other speaker, a 503 lost its Retry-After.)
    """
    host, port = owner
    url = request.url.with_host(host).with_port(port)
    async with parts.app.http_client.request(
        method=request.method,
        url=url,
        headers=request.headers,
        allow_redirects=False,
        timeout=ClientTimeout(total=10),
    ) as response:
        body = await response.read()
        headers = {
            name: value
            for name in ("Location", "Retry-After")
            if (value := response.headers.get(name)) is not None
        }
        return web.Response(
            body=body, status=response.status, headers=headers,
            content_type=response.content_type, charset=response.charset,
        )  # fmt: skip


@dataclass
class Gathered:
    """Every worker's share of the aggregate, and what is missing from it."""

    items: list[dict[str, Any]]
    missing_workers: list[str]
    complete: set[int]  # table partitions some worker answered for, recovered


async def _gather(parts: StreamsApp) -> Gathered:
    """Every worker's summaries, the workers that did not answer, the partitions covered."""
    app = parts.app
    own_share = local_summaries(parts)
    shares = [own_share]
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
                shares.append(orjson.loads(await response.read()))
        except (ClientError, TimeoutError, orjson.JSONDecodeError) as exc:
            log.warning("worker %s did not answer for /speakers: %s", host, exc)
            missing.append(str(host))

    await asyncio.gather(*(ask(h) for h in others))
    complete = {p for share in shares for p in share["partitions"] if p not in share["recovering"]}
    return Gathered([i for share in shares for i in share["items"]], missing, complete)


# --- health and metrics -----------------------------------------------------------------------


def consumer_lag(settings: Settings, app: faust.App) -> dict[tuple[str, int], int]:
    """Records between the last one read and the end, per source partition this worker
    reads (not changelogs): what the worker itself knows, without asking the broker."""
    monitor = app.monitor
    read = monitor.tp_read_offsets
    lag = {}
    for tp, end in monitor.tp_end_offsets.items():
        if settings.is_changelog(tp.topic):
            continue
        last = read.get(tp)
        lag[(tp.topic, tp.partition)] = max(0, end - (last + 1 if last is not None else 0))
    return lag


async def refresh_lag(parts: StreamsApp) -> None:
    """The group's lag on every partition of the topics its agents read, whichever worker
    holds them (or none: a dead worker's, until its session expires), from the group's
    committed offsets; this worker's own view when the broker does not answer."""
    settings = parts.settings
    topics = [parts.raw, parts.unidentified, parts.by_article, parts.tallies]
    try:
        parts.metrics.lag = await asyncio.wait_for(
            group_lag(settings, settings.app_id, [t.get_topic_name() for t in topics]), 10
        )
    except (KafkaError, OSError, TimeoutError) as exc:
        log.warning("the group's lag could not be read (%r); this worker's own instead", exc)
        parts.metrics.lag = consumer_lag(parts.settings, parts.app)


def register_views(parts: StreamsApp) -> None:
    app = parts.app
    streams = Streams()
    page_html = resources.files("streams.app").joinpath("static/index.html").read_bytes()
    icon = resources.files("streams.app").joinpath("static/favicon.svg").read_bytes()
    page_policy = guard.page_policy(page_html)

    def peers() -> set[str]:
        try:
            hosts = app.router.table_metadata(parts.speakers.name)
        except (KeyError, AttributeError):
            return set()
        return {_ident(h)[0] for h in hosts}

    guard.install(cast(Any, app.web).web_app, parts.settings, peers)

    async def dashboard(self: Any, request: web.Request) -> web.Response:
        return web.Response(
            body=page_html,
            content_type="text/html",
            charset="utf-8",
            headers={"Content-Security-Policy": page_policy},
        )

    async def favicon(self: Any, request: web.Request) -> web.Response:
        # browsers ask for it on every page of the worker's, the JSON ones included
        return web.Response(
            body=icon, content_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
        )

    async def list_speakers(self: Any, request: web.Request) -> web.Response:
        if request.query.get("local"):
            return _json(local_summaries(parts))
        try:
            gathered = await _gather(parts)
            page = _sorted_page(gathered.items, request.query)
        except web.HTTPBadRequest as exc:
            return _problem(400, exc.reason)
        missing = sorted(set(range(parts.settings.partitions)) - gathered.complete)
        if missing or gathered.missing_workers:
            # a partition no worker answered for, or one still read back from its changelog
            page["partial"] = True
            page["missing_partitions"] = missing
            page["missing_workers"] = gathered.missing_workers
        return _json(page)

    async def one_speaker(self: Any, request: web.Request, speaker_id: str) -> web.Response:
        partition = partition_of(parts, speaker_id)
        actives = _actives(parts)
        if actives is not None and partition not in actives:
            # routed here while no worker owns the partition (a takeover in progress)
            return _unavailable(partition, "no worker holds it yet")
        value = parts.speakers.get(speaker_id)
        state = SpeakerState.model_validate_json(value) if value is not None else None
        if state is not None and state.merged_into is not None:
            return _moved(state.merged_into)
        still = partition in recovering(parts)
        if state is None:
            if still:
                return _unavailable(partition, "its state is still being recovered")
            return _problem(404, f"no speaker {speaker_id!r}")
        summary = state.summary.model_dump(mode="json")
        summary["stances"] = stance_rows(summary["stances"])
        if still:
            summary["partial"] = True
            summary["missing_partitions"] = [partition]
        return _json(summary)

    async def speaker(self: Any, request: web.Request, speaker_id: str) -> web.Response:
        """A merged id redirects to the speaker it is; the rest goes to the partition's owner."""
        into = merged_into(parts, speaker_id)
        if into is not None:
            return _moved(into)
        return await to_owner(speaker_id, request, lambda: one_speaker(self, request, speaker_id))

    def owned_answer(speaker_id: str, answer: Callable[[], dict[str, Any]]) -> web.Response:
        """``answer()`` for a speaker of a partition this worker owns, marked partial while
        the partition recovers; 503 when no worker owns it (a takeover in progress)."""
        partition = partition_of(parts, speaker_id)
        actives = _actives(parts)
        if actives is not None and partition not in actives:
            return _unavailable(partition, "no worker holds it yet")
        try:
            body = {"speaker_id": speaker_id, **answer()}
        except BadQuery as exc:
            return _problem(400, str(exc))
        if partition in recovering(parts):
            body["partial"] = True
            body["missing_partitions"] = [partition]
        return _json(body)

    async def to_owner(
        about: str, request: web.Request, here: Callable[[], Awaitable[web.Response]]
    ) -> web.Response:
        """A request about speaker ``about``: answered here (``here()``) when this worker owns
        the speaker's table partition, else by the owner, passed on as it answers."""
        try:
            owner = _owner(parts, about)
            return await here() if owner is None else await _forward(parts, request, owner)
        except (ClientError, TimeoutError, ServiceUnavailable) as exc:
            log.warning("no worker answered for a request about %s: %r", about, exc)
            return _unavailable(partition_of(parts, about), "its worker did not answer")

    def moved_here(speaker_id: str, request: web.Request) -> web.Response | None:
        """308 when this worker's table says the speaker was merged (the alias table every
        worker reads may not have the merge yet)."""
        value = parts.speakers.get(speaker_id)
        state = SpeakerState.model_validate_json(value) if value is not None else None
        if state is not None and state.merged_into is not None:
            return _moved(state.merged_into, request)
        return None

    async def local_quotations(self: Any, request: web.Request) -> web.Response:
        speaker_id = request.query["speaker"]
        if (moved := moved_here(speaker_id, request)) is not None:
            return moved
        partition = partition_of(parts, speaker_id)
        return owned_answer(
            speaker_id,
            lambda: quotation_page(
                (v for _, v in prefixed(parts.quotations, f"{speaker_id}|", partition)),
                request.query,
            ),
        )

    async def quotations(self: Any, request: web.Request) -> web.Response:
        """A speaker's quotations, from the worker that owns the speaker's partition."""
        speaker_id = request.query.get("speaker", "")
        if not speaker_id:
            return _problem(400, "speaker is required: /quotations?speaker=<speaker id>")
        into = merged_into(parts, speaker_id)
        if into is not None:
            return _moved(into, request)
        return await to_owner(speaker_id, request, lambda: local_quotations(self, request))

    async def local_timeline(self: Any, request: web.Request, speaker_id: str) -> web.Response:
        name = request.query.get("bucket", "hour")
        if name not in BUCKETS:
            return _problem(400, f"bucket must be one of {', '.join(BUCKETS)}")
        if (moved := moved_here(speaker_id, request)) is not None:
            return moved
        return owned_answer(
            speaker_id,
            lambda: {
                "bucket": name,
                "items": list(buckets(parts.timeline, speaker_id, name, now=utcnow())),
            },
        )

    async def speaker_timeline(self: Any, request: web.Request, speaker_id: str) -> web.Response:
        """A speaker's hour or day buckets, from the worker that owns its partition."""
        into = merged_into(parts, speaker_id)
        if into is not None:
            return _moved(into, request)
        return await to_owner(
            speaker_id, request, lambda: local_timeline(self, request, speaker_id)
        )

    async def stream(self: Any, request: web.Request) -> web.StreamResponse:
        return await statement_stream(parts, request, streams)

    async def push(self: Any, request: web.Request) -> web.Response:
        return await push_article(parts, request)

    async def health(self: Any, request: web.Request) -> web.Response:
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
        await refresh_lag(parts)
        return web.Response(
            text=parts.metrics.prometheus(), content_type=CONTENT_TYPE, charset="utf-8",
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
    view("/favicon.ico", "favicon", get=favicon)
    view("/speakers", "speakers", get=list_speakers)
    view("/speakers/", "speakers_slash", get=list_speakers)
    view("/speakers/{speaker_id}", "speaker", get=speaker)
    view("/quotations", "quotations", get=quotations)
    view("/speakers/{speaker_id}/timeline", "speaker_timeline", get=speaker_timeline)
    view("/statements/stream", "statement_stream", get=stream)
    view("/articles", "articles", post=push)
    view("/health", "health", get=health)
    view("/health/", "health_slash", get=health)
    view("/metrics", "metrics", get=metrics)
    view("/metrics/", "metrics_slash", get=metrics)
    view("/openapi.json", "openapi", get=spec)
