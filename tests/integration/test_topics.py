"""Topics are usable when ``ensure_topics`` returns, even with several creators at once."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from streams.kafka.clients import ensure_topics, led_topics, topic_specs
from streams.settings import Settings

pytestmark = pytest.mark.integration


def test_concurrent_creators_all_return_with_every_partition_led(kafka: Settings) -> None:
    settings = kafka.model_copy(update={"topic_prefix": "race.", "partitions": 8})
    expected = {t.name: t.num_partitions for t in topic_specs(settings)}

    async def main() -> list[str]:
        # the demo, its replay and its worker each create the topics as they start
        async def create_then_describe() -> list[str]:
            await ensure_topics(settings)
            admin = AIOKafkaAdminClient(bootstrap_servers=settings.broker)
            await admin.start()
            try:
                return led_topics(await admin.describe_topics(list(expected)), expected)
            finally:
                await admin.close()

        results = await asyncio.gather(*(create_then_describe() for _ in range(3)))
        return [name for led in results for name in led]

    led = asyncio.run(main())
    assert sorted(led) == sorted(list(expected) * 3)
