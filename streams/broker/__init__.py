"""The local Apache Kafka broker (KRaft, one node) that tests, the demo and benchmarks use."""

from streams.broker.local import BrokerStatus, LocalKafka

__all__ = ["BrokerStatus", "LocalKafka"]
