"""aiokafka clients from the settings, and the topics the project declares up front."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaClient, AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError
from mode.utils.times import want_seconds

from streams.errors import BrokerError
from streams.settings import INTERNAL_TOPIC_NAMES, TOPIC_NAMES, Settings

log = logging.getLogger(__name__)

#: Topics keep a week of data except the dead letters, which are kept for a month.
_RETENTION_MS = {"deadletter": 30 * 24 * 3600 * 1000}
#: Topics that keep the last record of each key for good (a table's changelog).
_COMPACTED = frozenset({"speaker.merges"})
MAX_MESSAGE_BYTES = 8 * 1024 * 1024


def producer(settings: Settings, **overrides: object) -> AIOKafkaProducer:
    options: dict[str, object] = {
        "bootstrap_servers": settings.broker,
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "max_request_size": MAX_MESSAGE_BYTES,
        "compression_type": "gzip",
        **settings.kafka_client_options(),
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


def consumer(settings: Settings, *topics: str, **overrides: object) -> AIOKafkaConsumer:
    options: dict[str, object] = {
        "bootstrap_servers": settings.broker,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "fetch_max_bytes": MAX_MESSAGE_BYTES * 2,
        "max_partition_fetch_bytes": MAX_MESSAGE_BYTES,
        **settings.kafka_client_options(),
    }
    options.update(overrides)
    return AIOKafkaConsumer(*topics, **options)


def topic_specs(settings: Settings, *, internal: bool = False) -> list[NewTopic]:
    """The project's topics (``internal``: the worker's own, between its agents), with
    partition counts and configs from the settings."""
    specs = []
    for name in INTERNAL_TOPIC_NAMES if internal else TOPIC_NAMES:
        configs = {"max.message.bytes": str(MAX_MESSAGE_BYTES)}
        if name in _RETENTION_MS:
            configs["retention.ms"] = str(_RETENTION_MS[name])
        if name in _COMPACTED:
            configs["cleanup.policy"] = "compact"
        specs.append(
            NewTopic(
                name=settings.internal_topic(name) if internal else settings.topic(name),
                num_partitions=settings.partitions,
                replication_factor=settings.replication_factor,
                topic_configs=configs,
            )
        )
    return specs


def changelog_specs(settings: Settings, tables: Iterable[Any]) -> list[NewTopic]:
    """The changelog topics of Faust ``tables``, as Faust would create them (partitions,
    replicas, cleanup policy, a windowed table's retention, the table's extra config).

    The worker creates them before Faust starts, with the rest: Faust creates a missing
    changelog itself at start-up and subscribes at once, and a consumer whose metadata does
    not show the new topic yet ignores it ("Ignoring missing topic") until its next metadata
    refresh, minutes later, with the table's recovery waiting on it meanwhile.
    """
    specs = []
    for table in tables:
        topic = table.changelog_topic
        policy = [
            flag for flag, on in (("compact", topic.compacting), ("delete", topic.deleting)) if on
        ]
        configs = {"max.message.bytes": str(MAX_MESSAGE_BYTES)}
        if policy:
            configs["cleanup.policy"] = ",".join(policy)
        if topic.retention:
            configs["retention.ms"] = str(int(want_seconds(topic.retention) * 1000))
        configs.update({k: str(v) for k, v in (topic.config or {}).items()})
        specs.append(
            NewTopic(
                name=topic.get_topic_name(),
                num_partitions=topic.partitions or settings.partitions,
                replication_factor=topic.replicas or settings.replication_factor,
                topic_configs=configs,
            )
        )
    return specs


async def ensure_topics(
    settings: Settings, extra: Sequence[NewTopic] = (), ready_timeout: float = 30.0
) -> list[str]:
    """Create the project's topics that do not exist yet, and return once every partition of
    every one of them has a leader; returns the names created.

    A topic is listed by the broker before all its partitions have leaders. A worker that
    joins its group in between is assigned only the partitions its metadata shows, and keeps
    that assignment until its next metadata refresh (five minutes): seen when ``streams demo``
    and its worker created the topics at the same moment on a fresh broker.
    """
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.broker, **settings.kafka_client_options()
    )
    await admin.start()
    try:
        specs = [*topic_specs(settings), *extra]
        existing = set(await admin.list_topics())
        missing = [t for t in specs if t.name not in existing]
        if missing:
            # another process may create them between our list and create
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
            log.info("created topics %s", ", ".join(t.name for t in missing))
        await _until_led(admin, {t.name: t.num_partitions for t in specs}, ready_timeout)
        return [t.name for t in missing]
    finally:
        await admin.close()


async def _until_led(
    admin: AIOKafkaAdminClient, partitions: dict[str, int], timeout: float
) -> None:
    """Wait until each topic shows its partitions, each with a leader (or log the laggards)."""
    deadline = time.monotonic() + timeout
    while True:
        waiting = sorted(
            set(partitions)
            - set(led_topics(await admin.describe_topics(list(partitions)), partitions))
        )
        if not waiting:
            return
        if time.monotonic() > deadline:
            log.warning(
                "topics without a leader for every partition after %.0fs: %s",
                timeout,
                ", ".join(waiting),
            )
            return
        await asyncio.sleep(0.2)


def led_topics(described: Sequence[dict[str, Any]], partitions: dict[str, int]) -> list[str]:
    """The topics of a metadata answer that have every expected partition, each with a leader."""
    out = []
    for topic in described:
        name = topic.get("topic")
        parts = topic.get("partitions") or []
        if (
            name in partitions
            and not topic.get("error_code")
            and len(parts) >= partitions[name]
            and all(p.get("leader", -1) >= 0 and not p.get("error_code") for p in parts)
        ):
            out.append(name)
    return out


async def metadata_answer(
    bootstrap: str, timeout: float = 3.0, options: Mapping[str, Any] | None = None
) -> None:
    """Ask ``bootstrap`` for the cluster's metadata once; return when it answers listing at
    least one broker, else raise (:class:`KafkaError`, :class:`OSError`, ``TimeoutError``).

    An answer is what readiness means: a listening port alone is not (a broker accepts
    connections before it serves requests), nor is any line in its log.
    """
    client = AIOKafkaClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000), **(options or {})
    )
    try:
        await asyncio.wait_for(client.bootstrap(), timeout)
        if not client.cluster.brokers():
            raise KafkaConnectionError(f"{bootstrap} answered with no brokers yet")
    finally:
        await client.close()


async def wait_for_broker(settings: Settings, timeout: float = 30.0) -> None:
    """Return once the cluster answers a metadata request, else raise :class:`BrokerError`."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            await metadata_answer(settings.broker, 3.0, settings.kafka_client_options())
            return
        except (KafkaError, OSError, TimeoutError) as exc:
            last = exc
            await asyncio.sleep(0.5)
    raise no_broker(settings, last)


def no_broker(settings: Settings, reason: object) -> BrokerError:
    """The one error for "nothing answers at STREAMS_BROKER", saying what to do."""
    return BrokerError(
        f"no Kafka broker answers at {settings.broker} ({reason}); start one with "
        "`streams broker start` or `streams demo`, or point STREAMS_BROKER at one"
    )


async def reachable(settings: Settings, timeout: float = 2.0) -> OSError | None:
    """None when a bootstrap server of ``STREAMS_BROKER`` accepts a TCP connection, else the
    last error. Asked before a Kafka client starts: a refused connection then says no in one
    line, without the client logging a page of connection errors first."""
    last: OSError | None = None
    for server in settings.broker.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout)
        except (OSError, ValueError, TimeoutError) as exc:
            last = exc if isinstance(exc, OSError) else OSError(str(exc) or "timed out")
            continue
        writer.close()
        return None
    return last or OSError("no bootstrap server in STREAMS_BROKER")


async def require_broker(settings: Settings) -> None:
    """Raise :class:`BrokerError` (one line) when no bootstrap server accepts a connection."""
    error = await reachable(settings)
    if error is not None:
        raise no_broker(settings, error.strerror or error)


async def stop_consumer(client: AIOKafkaConsumer) -> None:
    """Stop a consumer, tolerating aiokafka#647.

    ``stop()`` soon after ``start()`` re-raises the cancellation of the consumer's own
    internal task; that one is swallowed, a cancellation of the caller is not.
    """
    try:
        await client.stop()
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise


async def topic_partitions(settings: Settings, topic: str) -> set[int]:
    """Partition numbers of ``topic`` from the cluster; empty when the topic does not exist."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.broker, **settings.kafka_client_options()
    )
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    for entry in described:
        if entry.get("topic") == topic and not entry.get("error_code"):
            return {p["partition"] for p in entry.get("partitions", ())}
    return set()
