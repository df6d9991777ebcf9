"""Read a topic's records: ``streams tail`` and the demo's waiting both use it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from aiokafka import TopicPartition

from streams.kafka.clients import consumer, stop_consumer, topic_partitions
from streams.settings import SEEN_TOPIC, TOPIC_NAMES, Settings


def resolve_topic(settings: Settings, name: str) -> str:
    """``statements`` → the prefixed topic name; other names are taken as they are."""
    return settings.topic(name) if name in (*TOPIC_NAMES, SEEN_TOPIC) else name


def as_json(message: Any) -> dict[str, Any]:
    """A consumer record as a plain dict, the value parsed as JSON when it is JSON."""
    value: Any = message.value
    if value is not None:
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            value = value.decode("utf-8", "backslashreplace")
    key = message.key.decode("utf-8", "backslashreplace") if message.key is not None else None
    return {
        "topic": message.topic,
        "partition": message.partition,
        "offset": message.offset,
        "timestamp": message.timestamp,
        "key": key,
        "value": value,
    }


async def tail(
    settings: Settings,
    topic: str,
    emit: Callable[[dict[str, Any]], None],
    *,
    from_beginning: bool = False,
    limit: int | None = None,
    idle_timeout: float | None = None,
    start_offsets: Mapping[int, int] | None = None,
    stop: Callable[[], bool] | None = None,
) -> int:
    """Emit records of ``topic`` until ``limit``, ``idle_timeout`` or ``stop()``; returns count.

    Reads without a consumer group (no offsets are committed). ``start_offsets`` starts given
    partitions at given offsets.
    """
    name = resolve_topic(settings, topic)
    client = consumer(settings)
    await client.start()
    count = 0
    try:
        partitions = await topic_partitions(settings, name)
        tps = [TopicPartition(name, p) for p in sorted(partitions)]
        client.assign(tps)
        if start_offsets is not None:
            for tp in tps:
                client.seek(tp, start_offsets.get(tp.partition, 0))
        elif from_beginning:
            await client.seek_to_beginning(*tps)
        else:
            await client.seek_to_end(*tps)
        loop = asyncio.get_running_loop()
        last = loop.time()
        while limit is None or count < limit:
            if stop is not None and stop():
                break
            batch = await client.getmany(timeout_ms=200, max_records=500)
            if not batch:
                if idle_timeout is not None and loop.time() - last > idle_timeout:
                    break
                continue
            last = loop.time()
            for records in batch.values():
                for record in records:
                    emit(as_json(record))
                    count += 1
                    if limit is not None and count >= limit:
                        return count
        return count
    finally:
        await stop_consumer(client)


async def end_offsets(settings: Settings, topic: str) -> dict[int, int]:
    """The next offset of every partition of ``topic`` (where a new record would go)."""
    name = resolve_topic(settings, topic)
    client = consumer(settings)
    await client.start()
    try:
        tps = [TopicPartition(name, p) for p in await topic_partitions(settings, name)]
        ends = await client.end_offsets(tps) if tps else {}
        return {tp.partition: offset for tp, offset in ends.items()}
    finally:
        await stop_consumer(client)
