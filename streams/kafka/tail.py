"""Read a topic's records: ``streams tail`` and the demo's waiting both use it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from aiokafka import TopicPartition

from streams.errors import ConfigError
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
    until: Mapping[int, int] | None = None,
    stop: Callable[[], bool] | None = None,
) -> int:
    """Emit records of ``topic`` until ``limit``, ``idle_timeout``, ``stop()`` or, with
    ``until``, every partition read up to the end offset it gives; returns the count.

    Reads without a consumer group (no offsets are committed). ``start_offsets`` starts given
    partitions at given offsets.
    """
    name = resolve_topic(settings, topic)
    partitions = await existing_partitions(settings, name)
    client = consumer(settings)
    await client.start()
    count = 0
    try:
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
            if until is not None and await _reached(client, tps, until):
                break
            batch = await client.getmany(timeout_ms=200, max_records=500)
            if not batch:
                if idle_timeout is not None and loop.time() - last > idle_timeout:
                    break
                continue
            last = loop.time()
            for records in batch.values():
                for record in records:
                    if until is not None and record.offset >= until.get(record.partition, 0):
                        continue
                    emit(as_json(record))
                    count += 1
                    if limit is not None and count >= limit:
                        return count
        return count
    finally:
        await stop_consumer(client)


async def _reached(client: Any, tps: list[TopicPartition], until: Mapping[int, int]) -> bool:
    # the position passes control records (transaction markers) too
    for tp in tps:
        if await client.position(tp) < until.get(tp.partition, 0):
            return False
    return True


async def existing_partitions(settings: Settings, name: str) -> set[int]:
    """The partitions of topic ``name``; :class:`ConfigError` when there is no such topic."""
    partitions = await topic_partitions(settings, name)
    if not partitions:
        known = ", ".join(settings.topic(t) for t in TOPIC_NAMES)
        raise ConfigError(
            f"no topic {name!r} at {settings.broker}; the project's topics are {known} "
            "(created by the first worker, replay or demo)"
        )
    return partitions


async def latest(
    settings: Settings, topic: str, n: int
) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """The last ``n`` records of ``topic`` across its partitions (oldest first, by timestamp),
    and the end offset of each partition when they were read (where following starts)."""
    name = resolve_topic(settings, topic)
    tps = [TopicPartition(name, p) for p in sorted(await existing_partitions(settings, name))]
    client = consumer(settings)
    await client.start()
    try:
        ends = await client.end_offsets(tps)
        begins = await client.beginning_offsets(tps)
        records: list[dict[str, Any]] = []
        # n records from the end of each partition hold the last n of the topic, whatever
        # their order across partitions
        todo = {tp for tp in tps if ends[tp] > begins[tp] and n > 0}
        client.assign(tps)
        for tp in tps:
            client.seek(tp, max(begins[tp], ends[tp] - n))
        while todo:
            batch = await client.getmany(*todo, timeout_ms=500, max_records=500)
            for tp, messages in batch.items():
                records.extend(as_json(m) for m in messages if m.offset < ends[tp])
            for tp in list(todo):
                if await _reached(client, [tp], {tp.partition: ends[tp]}):
                    todo.discard(tp)
        records.sort(key=lambda r: (r["timestamp"], r["partition"], r["offset"]))
        return records[-n:] if n > 0 else [], {tp.partition: ends[tp] for tp in tps}
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
