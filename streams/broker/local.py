"""Run Apache Kafka locally: jars from Maven Central, KRaft mode, one node, Java 17.

``fetch`` copies the broker's jars (and their dependencies) into ``kafka_dist_dir`` with Maven;
Maven's own cache (``~/.m2``) and that folder make later starts work offline. ``start`` writes
``server.properties``, runs Kafka's storage-format step once, starts the JVM in its own process
session and waits until the broker answers a metadata request. Data, config, log and pid file
live under ``<data_dir>/kafka``.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from aiokafka.errors import KafkaError

from streams.errors import BrokerError, ConfigError
from streams.kafka.clients import metadata_answer
from streams.pids import alive
from streams.settings import Settings

log = logging.getLogger(__name__)

_MAIN_CLASS = "kafka.Kafka"
_STORAGE_TOOL = "kafka.tools.StorageTool"


@dataclass(frozen=True, slots=True)
class BrokerStatus:
    """What ``streams broker status`` reports."""

    running: bool
    pid: int | None
    reachable: bool
    bootstrap: str

    def describe(self) -> str:
        if self.running and self.reachable:
            return f"running (pid {self.pid}) at {self.bootstrap}"
        if self.running:
            return f"starting or unhealthy (pid {self.pid}); {self.bootstrap} does not answer"
        if self.reachable:
            return f"not started here, but a broker answers at {self.bootstrap}"
        return "stopped"


class LocalKafka:
    """One local Kafka node, driven by the settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dist = settings.kafka_dist_dir / settings.kafka_version
        self.libs = self.dist / "libs"
        self.home = settings.kafka_dir
        self.data = self.home / "data"
        self.config = self.home / "server.properties"
        self.log_file = self.home / "logs" / "server.log"
        self.console = self.home / "logs" / "console.log"
        self.pidfile = self.home / "kafka.pid"

    @property
    def bootstrap(self) -> str:
        return f"{self.settings.kafka_host}:{self.settings.kafka_port}"

    # --- jars ------------------------------------------------------------------------------

    def fetched(self) -> bool:
        return (self.dist / ".complete").is_file()

    def fetch(self) -> Path:
        """Copy Kafka's jars from Maven Central into the cache (no-op when already there)."""
        if self.fetched():
            return self.libs
        mvn = shutil.which("mvn")
        if mvn is None:
            raise ConfigError(
                "Maven (`mvn`) is not on PATH; it fetches Kafka's jars from Maven Central. "
                "Install it (Debian: apt-get install maven) or point STREAMS_BROKER at a "
                "running Kafka cluster"
            )
        self._java()
        self.dist.mkdir(parents=True, exist_ok=True)
        pom = resources.files("streams.broker").joinpath("pom.xml").read_text(encoding="utf-8")
        (self.dist / "pom.xml").write_text(
            pom.replace("KAFKA_VERSION", self.settings.kafka_version), encoding="utf-8"
        )
        log.info("fetching Apache Kafka %s jars with Maven", self.settings.kafka_version)
        result = subprocess.run(
            [
                mvn,
                "-q",
                "-B",
                "-f",
                str(self.dist / "pom.xml"),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={self.libs.resolve()}",
                "-DincludeScope=runtime",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BrokerError(
                f"Maven could not fetch Kafka {self.settings.kafka_version}: "
                f"{(result.stdout + result.stderr).strip()[-2000:]}"
            )
        (self.dist / ".complete").write_text(self.settings.kafka_version, encoding="utf-8")
        return self.libs

    # --- lifecycle -------------------------------------------------------------------------

    def status(self) -> BrokerStatus:
        pid = self._pid()
        return BrokerStatus(
            running=pid is not None, pid=pid, reachable=self.reachable(), bootstrap=self.bootstrap
        )

    def reachable(self, timeout: float = 0.5) -> bool:
        """Whether the broker's port accepts connections."""
        try:
            with socket.create_connection(
                (self.settings.kafka_host, self.settings.kafka_port), timeout=timeout
            ):
                return True
        except OSError:
            return False

    def answers(self, timeout: float = 3.0) -> bool:
        """Whether the broker answers a metadata request (it is ready, not just listening)."""
        try:
            asyncio.run(metadata_answer(self.bootstrap, timeout))
        except (KafkaError, OSError, TimeoutError) as exc:
            log.debug("Kafka at %s does not answer yet: %r", self.bootstrap, exc)
            return False
        return True

    def start(self) -> BrokerStatus:
        """Start the broker unless it runs already; return once it answers."""
        current = self.status()
        if current.running:
            self._wait_ready()
            return self.status()
        if current.reachable:
            raise BrokerError(
                f"port {self.settings.kafka_port} is taken by another process; stop it or set "
                "STREAMS_KAFKA_PORT (and STREAMS_BROKER) to a free port"
            )
        self.fetch()
        java = self._java()
        self._write_config()
        self._format(java)
        self.console.parent.mkdir(parents=True, exist_ok=True)
        log4j = self.home / "log4j.properties"
        template = resources.files("streams.broker").joinpath("log4j.properties").read_text()
        log4j.write_text(template.replace("LOG_FILE", str(self.log_file.resolve())))
        heap = self.settings.kafka_heap
        cmd = [
            java,
            f"-Xmx{heap}",
            f"-Xms{heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j.configuration=file:{log4j.resolve()}",
            "-cp",
            f"{self.libs.resolve()}/*",
            _MAIN_CLASS,
            str(self.config.resolve()),
        ]
        with self.console.open("ab") as console:
            proc = subprocess.Popen(
                cmd,
                stdout=console,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # the broker outlives the command that started it
            )
        self.pidfile.write_text(str(proc.pid))
        log.info("started Kafka (pid %d), waiting for %s", proc.pid, self.bootstrap)
        try:
            self._wait_ready(proc)
        except BrokerError:
            self.stop()
            raise
        return self.status()

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the broker this folder started; True when one was running."""
        pid = self._pid()
        if pid is None:
            self.pidfile.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and alive(pid):
            time.sleep(0.2)
        if alive(pid):
            log.warning("Kafka (pid %d) ignored SIGTERM for %.0fs; killing it", pid, timeout)
            os.kill(pid, signal.SIGKILL)
        self.pidfile.unlink(missing_ok=True)
        return True

    # --- helpers ---------------------------------------------------------------------------

    def _java(self) -> str:
        java_home = os.environ.get("JAVA_HOME")
        java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
        if not java or not Path(java).exists():
            raise ConfigError(
                "Java is not installed (no `java` on PATH, no JAVA_HOME); Kafka 3.9 needs "
                "Java 11 or newer (Debian: apt-get install openjdk-17-jre-headless)"
            )
        return java

    def _pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if alive(pid) else None

    def _write_config(self) -> None:
        s = self.settings
        self.data.mkdir(parents=True, exist_ok=True)
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{s.kafka_host}:{s.kafka_controller_port}",
            "listeners": f"PLAINTEXT://{s.kafka_host}:{s.kafka_port},"
            f"CONTROLLER://{s.kafka_host}:{s.kafka_controller_port}",
            "advertised.listeners": f"PLAINTEXT://{s.kafka_host}:{s.kafka_port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data.resolve()),
            "num.partitions": str(s.partitions),
            "auto.create.topics.enable": "false",  # topics are declared up front
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "4",
            "group.initial.rebalance.delay.ms": "0",
            "log.retention.hours": "168",
            "log.segment.bytes": str(64 * 1024 * 1024),
            "log.cleaner.dedupe.buffer.size": str(16 * 1024 * 1024),
        }
        self.config.write_text("".join(f"{k}={v}\n" for k, v in props.items()))

    def _format(self, java: str) -> None:
        if (self.data / "meta.properties").is_file():
            return
        cluster_id = self.settings.kafka_cluster_id or _random_cluster_id()
        result = subprocess.run(
            [
                java,
                "-cp",
                f"{self.libs.resolve()}/*",
                _STORAGE_TOOL,
                "format",
                "-t",
                cluster_id,
                "-c",
                str(self.config.resolve()),
                "--ignore-formatted",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BrokerError(f"Kafka storage format failed: {result.stdout}{result.stderr}")

    def _wait_ready(self, proc: subprocess.Popen[bytes] | None = None) -> None:
        deadline = time.monotonic() + self.settings.kafka_start_timeout
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise BrokerError(
                    f"Kafka exited with code {proc.returncode} while starting; "
                    f"last log lines:\n{self._log_tail()}"
                )
            if self.reachable() and self.answers():
                return
            time.sleep(0.25)
        raise BrokerError(
            f"Kafka did not answer at {self.bootstrap} within "
            f"{self.settings.kafka_start_timeout:.0f}s; last log lines:\n{self._log_tail()}"
        )

    def _log_tail(self, lines: int = 20) -> str:
        text = ""
        for path in (self.log_file, self.console):
            if path.is_file():
                with path.open("rb") as fh:
                    fh.seek(0, os.SEEK_END)
                    fh.seek(max(0, fh.tell() - 64_000))
                    text += fh.read().decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:])


def _random_cluster_id() -> str:
    """A KRaft cluster id: 16 random bytes, URL-safe base64 without padding.

    Like Kafka's own ``Uuid.randomUuid``, it never starts with "-", which the storage tool's
    argument parser would read as an option.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id
