"""How far a consumer group is behind, on every partition of its topics.

A worker's own consumer knows only the partitions it holds; a partition whose worker died
(and whose session has not expired yet) is held by no one who can tell. The group's committed
offsets, asked of the broker, cover them all.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from streams.kafka.clients import consumer, stop_consumer
from streams.settings import Settings


async def group_lag(
    settings: Settings, group: str, topics: Iterable[str]
) -> dict[tuple[str, int], int]:
    """``(topic, partition) → records after the group's committed offset`` for every
    partition of ``topics`` (a partition the group never committed counts from its start)."""
    wanted = set(topics)
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.broker,
        request_timeout_ms=5000,
        **settings.kafka_client_options(),
    )
    reader = consumer(settings, request_timeout_ms=5000)
    await admin.start()
    await reader.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        described = await admin.describe_topics(sorted(wanted))
        partitions = [
            TopicPartition(entry["topic"], p["partition"])
            for entry in described
            if entry.get("topic") in wanted and not entry.get("error_code")
            for p in sorted(entry.get("partitions", ()), key=lambda p: p["partition"])
        ]
        if not partitions:
            return {}
        ends = await reader.end_offsets(partitions)
        starts = await reader.beginning_offsets(partitions)
        lag = {}
        for tp in partitions:
            meta = committed.get(tp)
            done = meta.offset if meta is not None and meta.offset >= 0 else starts[tp]
            lag[(tp.topic, tp.partition)] = max(0, ends[tp] - done)
        return lag
    finally:
        await admin.close()
        await stop_consumer(reader)
