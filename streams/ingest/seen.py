"""What the ingesters have done with each feed item, kept in Kafka.

A compacted topic (``ingest.seen``) holds the latest outcome of each dedupe key
(``url:<hash of the canonical URL>``, ``guid:<hash of the feed's GUID>`` or
``item:<hash of the content>``): ``new`` (produced), ``skipped`` or ``given up`` (done with,
never produced) and ``error`` (failed for now: attempts so far, not retried before
``retry_at``). An ingester reads it from the beginning at start, then follows it, so a restart
or a second ingester never produces an item twice.

The article and the outcome of its keys are written in one Kafka transaction: subscribers of
``articles.raw`` that read committed records see an article once its keys are recorded and
never otherwise, and a crash or a broker error in between aborts both, so the next poll
produces the item once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import NewTopic

from streams.errors import BrokerError
from streams.kafka.clients import consumer as make_consumer
from streams.kafka.clients import ensure_topics, stop_consumer, topic_partitions
from streams.kafka.clients import producer as make_producer
from streams.records import utcnow
from streams.settings import SEEN_TOPIC, Settings

log = logging.getLogger(__name__)

#: The outcomes a record may carry; records written before outcomes existed mean "new".
NEW, SKIPPED, ERROR, GIVEN_UP = "new", "skipped", "error", "given up"
#: An item transaction holds a few sends; a crashed ingester's open one is aborted after this.
_TRANSACTION_TIMEOUT_MS = 30_000


def seen_topic_spec(settings: Settings) -> NewTopic:
    return NewTopic(
        name=settings.topic(SEEN_TOPIC),
        num_partitions=settings.partitions,
        replication_factor=settings.replication_factor,
        topic_configs={"cleanup.policy": "compact"},
    )


@dataclass(frozen=True)
class Failure:
    """An item that failed for now: why, how many times, and when to try it again."""

    reason: str
    attempts: int
    retry_at: datetime


@dataclass
class SeenState:
    """The outcome of every key, as the records of the topic leave it (no I/O)."""

    done: set[str] = field(default_factory=set)
    failures: dict[str, Failure] = field(default_factory=dict)

    def apply(self, key: str, value: bytes | None) -> None:
        """Fold one record of the topic in; a tombstone (None) forgets the key."""
        self.failures.pop(key, None)
        if value is None:
            self.done.discard(key)
            return
        about = _loads(value)
        if about.get("outcome") != ERROR:
            self.done.add(key)
            return
        if key in self.done:  # another ingester produced it meanwhile: done wins
            return
        try:
            failure = Failure(
                str(about["reason"]),
                int(about["attempts"]),
                datetime.fromisoformat(str(about["retry_at"])),
            )
        except (KeyError, TypeError, ValueError):
            failure = Failure("unknown", 1, utcnow())
        self.failures[key] = failure

    def known(self, keys: Iterable[str]) -> bool:
        """Whether any of the keys is done with (produced, skipped or given up)."""
        return any(key in self.done for key in keys)

    def failure(self, keys: Iterable[str]) -> Failure | None:
        """The failure with the most attempts among the keys, if any failed."""
        found = [self.failures[key] for key in keys if key in self.failures]
        return max(found, key=lambda f: f.attempts) if found else None


def _loads(value: bytes) -> dict[str, Any]:
    try:
        about = orjson.loads(value)
    except orjson.JSONDecodeError:
        return {}
    return about if isinstance(about, dict) else {}


class SeenLog:
    """The outcomes of items, backed by the compacted topic; the ingester's only writer."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.topic = settings.topic(SEEN_TOPIC)
        self.state = SeenState()
        # one id per ingester: a second ingester must not fence this one
        self._producer: AIOKafkaProducer = make_producer(
            settings,
            transactional_id=f"{self.topic}-{uuid.uuid4().hex}",
            transaction_timeout_ms=_TRANSACTION_TIMEOUT_MS,
        )
        self._started = False
        self._lock = asyncio.Lock()  # one transaction at a time per producer
        self._consumer: AIOKafkaConsumer | None = None
        self._follow: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self.state.done)

    async def start(self) -> None:
        """Create the topic if needed, read it to its end, then follow it in the background."""
        await ensure_topics(self.settings, extra=[seen_topic_spec(self.settings)])
        await self._producer.start()
        self._started = True
        client = make_consumer(self.settings, isolation_level="read_committed")
        await client.start()
        self._consumer = client
        tps = await self._partitions()
        client.assign(tps)
        await client.seek_to_beginning(*tps)
        ends = await client.end_offsets(tps)
        while [tp for tp, end in ends.items() if await client.position(tp) < end]:
            await self._read(client, timeout_ms=500)
        log.info("%d items seen before, from %s", len(self), self.topic)
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
        if self._started:
            await self._producer.stop()

    async def record(
        self,
        keys: Iterable[str],
        outcome: str,
        *,
        article: tuple[str, bytes] | None = None,
        **about: object,
    ) -> None:
        """Write the outcome of an item's keys, and its article (key, value) to
        ``articles.raw``, in one transaction; returns once it is committed."""
        keys = list(keys)
        value = orjson.dumps({"at": utcnow().isoformat(), "outcome": outcome, **about})
        async with self._lock, self._producer.transaction():
            if article is not None:
                key, payload = article
                await self._producer.send_and_wait(
                    self.settings.topic("articles.raw"), payload, key=key.encode("utf-8")
                )
            await self._mark(keys, value)
        for key in keys:
            self.state.apply(key, value)

    async def _mark(self, keys: list[str], value: bytes) -> None:
        sends = [
            await self._producer.send(self.topic, value, key=key.encode("utf-8")) for key in keys
        ]
        await asyncio.gather(*sends)

    async def _follow_loop(self, client: AIOKafkaConsumer) -> None:
        while True:
            await self._read(client, timeout_ms=1000)

    async def _read(self, client: AIOKafkaConsumer, timeout_ms: int) -> None:
        batch = await client.getmany(timeout_ms=timeout_ms, max_records=1000)
        for records in batch.values():
            for record in records:
                if record.key is not None:
                    self.state.apply(record.key.decode("utf-8", "replace"), record.value)
