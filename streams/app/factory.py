"""Build the Faust app from the settings: topics, the ``speakers`` table and the agents.

Data flow::

    articles.raw ──▶ enrich ──▶ articles.enriched  (key: article_id)
                             ├─▶ <app>-statements-unidentified (key: speaker_id)
                             └─▶ deadletter         (key: original key)
    <app>-statements-unidentified ──▶ quotation (table quotation-index, key: speaker_id|…)
        ├─▶ statements, with quotation_id (key: speaker_id)
        └─▶ <app>-statements-by-article (key: article_id)
        ──▶ ledger (table statement-ledger, key: article_id, on disk, retention)
        ──▶ <app>-speaker-tallies (key: speaker_id)
        ──▶ aggregate ──▶ table speakers (key: speaker_id, co-partitioned)
                      └─▶ table quotations (key: speaker_id|…, on disk, in the speaker's
                          partition)
                      └─▶ windowed tables timeline-hour, timeline-day (key: [speaker_id, window])
    enrich ──▶ global table speaker-registry (key: speaker_id): who is known, to every worker

The ledger knows, per article, which statements are counted and under whom, so a statement
sent again (a redelivery, a replay) is recognised without keeping its id in the speaker's
value; the speakers table holds bounded summaries only.

Topic values are raw bytes decoded by the agents themselves, so that a malformed message
becomes a dead letter instead of an exception inside Faust's consumer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from ssl import SSLContext
from typing import Any, cast

import faust

from streams.app import faust_fixes
from streams.app.agents import (
    aggregate_agent,
    enrich_agent,
    learn_global_changelogs,
    ledger_agent,
    publish_merges,
    quotation_agent,
)
from streams.app.parts import StreamsApp
from streams.app.runner import EnrichRunner
from streams.app.tables import CommitHook, Deferred, WatchedGlobalTable, json_table
from streams.app.timeline import windowed_tables
from streams.app.views import refresh_lag, register_views
from streams.app.watchdog import Watchdog
from streams.codec import register_faust_codec
from streams.kafka.clients import MAX_MESSAGE_BYTES
from streams.settings import Settings

log = logging.getLogger(__name__)


def _broker_url(settings: Settings) -> str:
    return ";".join(f"kafka://{host.strip()}" for host in settings.broker.split(",") if host)


def _credentials(settings: Settings) -> Any:
    if settings.security_protocol == "PLAINTEXT":
        return None
    ssl_context = cast(SSLContext | None, settings.kafka_client_options().get("ssl_context"))
    if settings.security_protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=settings.sasl_username,
            password=settings.sasl_password.get_secret_value() if settings.sasl_password else None,
            mechanism=settings.sasl_mechanism,
            ssl_context=ssl_context,
        )
    return faust.SSLCredentials(ssl_context)


def _stream_partitions(settings: Settings, consumer: Any) -> list[Any]:
    """The partitions assigned to this worker that its streams read (not table changelogs)."""
    return [tp for tp in consumer.assignment() if not settings.is_changelog(tp.topic)]


async def _stream_offsets(
    settings: Settings, app: faust.App
) -> tuple[dict[Any, int], dict[Any, int]]:
    """(end offset, last offset done) of each stream partition this worker is assigned.

    The end offsets are asked of the broker: Faust's monitor only learns them from fetches,
    so a worker that fetches nothing at all would look idle instead of stalled. Progress is
    the committed offset: a record counts once it is processed and everything before it
    too, so an agent stuck on a record it has read (a hung call, a stopped NLP process) shows
    as a stall, which the monitor's read offsets would hide. Changelogs are left out: table
    recovery reads them, not the streams.
    """
    monitor = app.monitor
    consumer = cast(Any, app.consumer)
    assigned = _stream_partitions(settings, consumer)
    try:
        ends = dict(await consumer.highwaters(*assigned)) if assigned else {}
    except Exception as exc:  # the broker is away: fall back on what the fetches saw
        log.debug("watchdog: end offsets unavailable (%r)", exc)
        ends = {tp: end for tp, end in monitor.tp_end_offsets.items() if tp in assigned}
    committed = getattr(consumer, "_committed_offset", {})
    done = {tp: committed[tp] - 1 for tp in assigned if committed.get(tp) is not None}
    return ends, done


async def _reread_missing_heads(
    app: faust.App, parts: StreamsApp, suspects: dict[Any, int]
) -> None:
    """Seek back a partition whose next offset to commit was dropped by the consumer.

    Seen at two watchdog checks in a row with the same offset (and not while a rebalance
    holds the flow), the records from that offset are read again; what had been processed
    after the gap is processed twice, which the table's statement ids absorb (see
    :func:`streams.app.faust_fixes.missing_heads`).
    """
    consumer = cast(Any, app.consumer)
    if app.rebalancing or not consumer.flow_active:
        suspects.clear()
        return
    assigned = set(_stream_partitions(parts.settings, consumer))
    found = {
        tp: offset for tp, offset in faust_fixes.missing_heads(consumer).items() if tp in assigned
    }
    reread = set()
    for tp, offset in found.items():
        if suspects.get(tp) == offset:
            log.warning(
                "re-reading topic=%s partition=%d from offset %d: the consumer dropped "
                "records there and moved past them",
                tp.topic,
                tp.partition,
                offset,
            )
            await faust_fixes.reread(consumer, tp, offset)
            parts.metrics.partitions_reread += 1
            reread.add(tp)
    # a partition just sought back needs two more sightings before it is sought again
    suspects.clear()
    suspects.update({tp: offset for tp, offset in found.items() if tp not in reread})


def _sender(parts: StreamsApp) -> Callable[[], None]:
    """What a commit begins with: the changelog records every
    :class:`~streams.app.tables.Deferred` table held back, timed as part of the quotation
    step (whose tables they are: quotations and the timeline)."""
    tables = [t for t in parts.app.tables.values() if isinstance(t, Deferred)]

    def send() -> None:
        began, cpu = time.perf_counter(), time.thread_time()
        for table in tables:
            table.send_deferred()
        parts.metrics.quotation_seconds += time.perf_counter() - began
        parts.metrics.quotation_cpu_seconds += time.thread_time() - cpu

    return send


def create_app(settings: Settings) -> StreamsApp:
    """A configured Faust app with its topics, table and agents; nothing is started."""
    register_faust_codec()
    faust_fixes.apply()
    app = faust.App(
        settings.app_id,
        broker=_broker_url(settings),
        broker_credentials=_credentials(settings),
        store="memory://",
        datadir=str(settings.data_dir / "worker"),
        # at least once, with the statement ledger and the aggregate recognising what they
        # counted already (see ledger.py and aggregate.py)
        processing_guarantee="at_least_once",
        topic_partitions=settings.partitions,
        table_standby_replicas=settings.standby_replicas,
        topic_replication_factor=settings.replication_factor,
        topic_allow_declare=True,
        topic_disable_leader=True,
        key_serializer="raw",
        value_serializer="raw",
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout,
        producer_max_request_size=MAX_MESSAGE_BYTES,
        producer_linger=settings.producer_linger,
        consumer_max_fetch_size=MAX_MESSAGE_BYTES,
        web_enabled=True,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port,
        # what the other workers call when they route a table read here
        canonical_url=settings.web_url or f"http://{settings.web_host}:{settings.web_port}",
        web_in_thread=False,
        # Faust's own pages: the raw table values, the workers' URLs, every local key
        web_router_enabled=settings.web_faust_pages,
        web_tables_enabled=settings.web_faust_pages,
    )
    faust_fixes.check_conf(app.conf)

    def topic(name: str, *, internal: bool = False) -> faust.TopicT:
        """A project topic (``internal``: one of the worker's own, named after the app id)."""
        return app.topic(
            settings.internal_topic(name) if internal else settings.topic(name),
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=settings.partitions,
            replicas=settings.replication_factor,
            internal=internal,
        )

    speakers = json_table(
        app,
        settings,
        "speakers",
        help="SpeakerState per speaker_id (see schemas/speaker_state.schema.json).",
    )
    ledger = json_table(
        app,
        settings,
        "statement-ledger",
        retention=settings.dedupe_retention,
        on_disk=True,
        help="ArticleLedger per article_id: which statements are counted, under whom.",
    )
    quotations = json_table(
        app,
        settings,
        "quotations",
        retention=settings.quotation_retention,
        on_disk=True,
        deferred=True,
        help="Quotation per <speaker_id>|<quotation_id>: the same words, any outlet.",
    )
    quotation_index = json_table(
        app,
        settings,
        "quotation-index",
        retention=settings.quotation_retention,
        on_disk=True,
        help="Per speaker: shingle → quotation id (see quotations.py).",
    )
    registry = json_table(
        app,
        settings,
        "speaker-registry",
        global_=True,
        help="KnownSpeaker per speaker_id, shared by every worker.",
    )
    versions = json_table(
        app,
        settings,
        "article-versions",
        by_key=True,
        decoded=True,
        help="{text: digest} per article_id: the text an article id names (see versions.py).",
    )
    aliases = json_table(
        app,
        settings,
        "speaker-aliases",
        global_=True,
        help="SpeakerMerge per merged speaker_id: the speaker it is now, for every worker.",
    )
    parts = StreamsApp(
        settings=settings,
        app=app,
        raw=topic("articles.raw"),
        enriched=topic("articles.enriched"),
        statements=topic("statements"),
        deadletter=topic("deadletter"),
        unidentified=topic("statements-unidentified", internal=True),
        by_article=topic("statements-by-article", internal=True),
        tallies=topic("speaker-tallies", internal=True),
        speakers=speakers,
        ledger=ledger,
        quotations=quotations,
        quotation_index=quotation_index,
        timeline=windowed_tables(app, settings),
        registry_table=registry,
        versions=versions,
        aliases=aliases,
        merges=topic("speaker.merges"),
        runner=EnrichRunner(settings),
    )
    cast(WatchedGlobalTable, registry).on_change = parts.registry_changed
    app.sensors.add(CommitHook(_sender(parts)))
    # several actors on one stream: Faust commits an offset only once every event before it
    # is acknowledged, so at-least-once holds; batches may finish out of order
    app.agent(parts.raw, name="enrich", concurrency=settings.enrich_concurrency)(
        enrich_agent(parts)
    )
    app.agent(parts.unidentified, name="quotation")(quotation_agent(parts))
    app.agent(parts.by_article, name="ledger")(ledger_agent(parts))
    app.agent(parts.tallies, name="aggregate")(aggregate_agent(parts))

    @app.task  # type: ignore[untyped-decorator]
    async def know_global_changelogs() -> None:
        await learn_global_changelogs(parts)

    @app.timer(interval=1.0)  # type: ignore[untyped-decorator]
    async def merges() -> None:
        """Merges the registry found while reading other workers' entries."""
        await publish_merges(parts)

    watchdog = Watchdog(settings.stall_timeout)
    suspects: dict[Any, int] = {}

    @app.timer(interval=settings.watchdog_interval)  # type: ignore[untyped-decorator]
    async def watch() -> None:
        """Report partitions that stall and tables still recovering, with their progress."""
        sources, read = await _stream_offsets(settings, app)
        stalls, stalled = watchdog.check(read, sources, app.loop.time())
        parts.metrics.stalled_partitions = stalled
        for stall in stalls:
            parts.metrics.stalls_reported += 1
            log.warning(
                "stalled: topic=%s partition=%d offset=%d, %d records waiting, no progress "
                "for %.0fs",
                stall.topic,
                stall.partition,
                stall.offset,
                stall.waiting,
                stall.seconds,
            )
        await _reread_missing_heads(app, parts, suspects)
        await refresh_lag(parts)
        recovery = app.tables.recovery  # type: ignore[attr-defined]
        remaining = recovery.active_remaining_total() if recovery.in_recovery else 0
        parts.metrics.recovery_remaining = remaining
        if recovery.in_recovery:
            log.info("table recovery in progress: %d changelog records to go", remaining)

    register_views(parts)
    return parts
