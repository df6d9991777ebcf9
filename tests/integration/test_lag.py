"""The group's lag covers every partition of its topics, committed or not, whoever holds it."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import TopicPartition
from aiokafka.structs import OffsetAndMetadata

from streams.kafka.clients import consumer, ensure_topics, producer, stop_consumer
from streams.kafka.lag import group_lag
from streams.settings import Settings

pytestmark = pytest.mark.integration


def test_lag_counts_from_the_group_commit_on_every_partition(kafka: Settings) -> None:
    settings = kafka.model_copy(update={"topic_prefix": "lag.", "app_id": "streams-lag"})
    topic = settings.topic("statements")

    async def run() -> dict[tuple[str, int], int]:
        await ensure_topics(settings)
        client = producer(settings)
        await client.start()
        try:
            for partition in range(settings.partitions):
                for n in range(partition + 1):
                    await client.send_and_wait(topic, b"{}", key=b"k%d" % n, partition=partition)
        finally:
            await client.stop()
        # the group committed partition 0 to its end and partition 1 half-way; no one ever
        # read partitions 2 and 3
        group = consumer(settings, group_id=settings.app_id)
        await group.start()
        try:
            group.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
            await group.commit(
                {
                    TopicPartition(topic, 0): OffsetAndMetadata(1, ""),
                    TopicPartition(topic, 1): OffsetAndMetadata(1, ""),
                }
            )
        finally:
            await stop_consumer(group)
        return await group_lag(settings, settings.app_id, [topic])

    lag = asyncio.run(run())
    assert lag == {(topic, 0): 0, (topic, 1): 1, (topic, 2): 3, (topic, 3): 4}
