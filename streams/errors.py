"""The exception tree. Every error the package raises on purpose derives from StreamsError.

::

    StreamsError
    ├── ConfigError            settings or environment cannot work (Java/Maven missing, bad path)
    ├── BrokerError            the local Kafka broker could not be started, stopped or reached
    ├── WorkerError            a worker this command started exited before its time
    ├── InputError             one input cannot become an Article (file, JSON line, message)
    │   └── RecordError        a record fails validation against its model (code STR-E001..)
    └── ProcessingError        enrichment of one article failed (carried to the dead letters)

Messages say what went wrong and what to do about it. Per-event errors (InputError,
ProcessingError) never stop a stream: the agent routes the event to ``deadletter`` and goes on.
"""

from __future__ import annotations


class StreamsError(Exception):
    """Root of every error this package raises on purpose."""


class ConfigError(StreamsError):
    """The settings or the machine cannot support what was asked."""


class BrokerError(StreamsError):
    """The local Kafka broker could not be started, stopped or reached."""


class WorkerError(StreamsError):
    """A worker process this command started (the demo's) exited before its time."""


class InputError(StreamsError):
    """One input (a file, a JSON line, a Kafka message) cannot become an Article."""


class RecordError(InputError):
    """A record does not match its model; the message lists the offending fields."""


class ProcessingError(StreamsError):
    """Enriching one article failed; the article goes to the dead-letter topic."""
