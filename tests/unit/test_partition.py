"""The partition of a key, as Kafka's default partitioner gives it (``key_partition``, on
aiokafka's murmur2): the figures come from kafka-clients 3.9.1, ``Utils.murmur2`` and
``Utils.toPositive(murmur2(key)) % 6`` (the first six keys are the vectors of Kafka's own
``UtilsTest.testMurmur2``)."""

from __future__ import annotations

import pytest
from aiokafka.partitioner import murmur2

from streams.app.versions import key_partition

KAFKA = [
    ("21", -973932308, 0),
    ("foobar", -790332482, 0),
    ("a-little-bit-long-string", -985981536, 2),
    ("a-little-bit-longer-string", -1486304829, 5),
    ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971, 5),
    ("abc", 479470107, 3),
    ("article-1", -1976428980, 2),
    ("bbc-2024-0001", 1955416057, 1),
    ("Ω-ключ", -375893097, 5),
]


@pytest.mark.parametrize(("key", "java_murmur2", "partition"), KAFKA)
def test_key_partition_is_kafkas(key: str, java_murmur2: int, partition: int) -> None:
    assert murmur2(key.encode("utf-8")) == java_murmur2 & 0xFFFFFFFF  # unsigned in Python
    assert key_partition(key, 6) == partition
