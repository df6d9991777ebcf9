"""streams: turn a live stream of news into structured, attributed facts, on Kafka."""

__version__ = "0.1.0"
