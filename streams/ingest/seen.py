"""What the ingesters have produced already, kept in Kafka.

A compacted topic (``ingest.seen``) holds one record per dedupe key: ``url:<hash of the
canonical URL>`` and ``guid:<hash of the feed's GUID>``. An ingester reads it from the
beginning at start, then follows it, so a restart or a second ingester never produces an item
twice. Keys are written after the article itself: a crash in between re-produces that
article once, under the same ``article_id`` (the aggregate counts its statements once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import NewTopic

from streams.errors import BrokerError
from streams.kafka.clients import consumer as make_consumer
from streams.kafka.clients import ensure_topics, stop_consumer, topic_partitions
from streams.records import utcnow
from streams.settings import SEEN_TOPIC, Settings

log = logging.getLogger(__name__)


def seen_topic_spec(settings: Settings) -> NewTopic:
    return NewTopic(
        name=settings.topic(SEEN_TOPIC),
        num_partitions=settings.partitions,
        replication_factor=settings.replication_factor,
        topic_configs={"cleanup.policy": "compact"},
    )


class SeenLog:
    """The set of dedupe keys already produced, backed by the compacted topic."""

    def __init__(self, settings: Settings, producer: AIOKafkaProducer) -> None:
        self.settings = settings
        self.topic = settings.topic(SEEN_TOPIC)
        self._producer = producer
        self._keys: set[str] = set()
        self._consumer: AIOKafkaConsumer | None = None
        self._follow: asyncio.Task[None] | None = None

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    async def start(self) -> None:
        """Create the topic if needed, read it to its end, then follow it in the background."""
        await ensure_topics(self.settings, extra=[seen_topic_spec(self.settings)])
        client = make_consumer(self.settings)
        await client.start()
        self._consumer = client
        tps = await self._partitions()
        client.assign(tps)
        await client.seek_to_beginning(*tps)
        ends = await client.end_offsets(tps)
        while [tp for tp, end in ends.items() if await client.position(tp) < end]:
            await self._read(client, timeout_ms=500)
        log.info("%d items seen before, from %s", len(self._keys), self.topic)
        self._follow = asyncio.create_task(self._follow_loop(client))

    async def _partitions(self, timeout: float = 30.0) -> list[TopicPartition]:
        """The topic's partitions, waiting for the metadata of a topic just created."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = await topic_partitions(self.settings, self.topic)
            if len(found) >= self.settings.partitions or loop.time() > deadline:
                break
            await asyncio.sleep(0.2)
        if not found:
            raise BrokerError(f"topic {self.topic} has no partitions after {timeout:.0f}s")
        return [TopicPartition(self.topic, p) for p in sorted(found)]

    async def stop(self) -> None:
        if self._follow is not None:
            self._follow.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follow
        if self._consumer is not None:
            await stop_consumer(self._consumer)

    async def add(self, keys: Iterable[str], **about: object) -> None:
        """Record ``keys`` as produced (waits for the broker's acknowledgement)."""
        value = orjson.dumps({"at": utcnow().isoformat(), **about})
        sends = [
            await self._producer.send(self.topic, value, key=key.encode("utf-8"))
            for key in keys
            if key not in self._keys
        ]
        await asyncio.gather(*sends)
        self._keys.update(keys)

    async def _follow_loop(self, client: AIOKafkaConsumer) -> None:
        while True:
            await self._read(client, timeout_ms=1000)

    async def _read(self, client: AIOKafkaConsumer, timeout_ms: int) -> None:
        batch = await client.getmany(timeout_ms=timeout_ms, max_records=1000)
        for records in batch.values():
            for record in records:
                if record.key is None:
                    continue
                key = record.key.decode("utf-8", "replace")
                if record.value is None:  # a tombstone forgets the item
                    self._keys.discard(key)
                else:
                    self._keys.add(key)
