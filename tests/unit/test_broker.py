"""The local broker's preconditions and configuration, without starting Java."""

from pathlib import Path

import pytest

from streams.broker import LocalKafka
from streams.errors import ConfigError
from streams.settings import Settings


def _kafka(tmp_path: Path) -> LocalKafka:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        kafka_dist_dir=tmp_path / "dist",
        kafka_port=19992,
        kafka_controller_port=19993,
    )
    return LocalKafka(settings)


def test_missing_maven_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="Maven"):
        _kafka(tmp_path).fetch()


def test_missing_java_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(ConfigError, match="Java"):
        _kafka(tmp_path)._java()


def test_server_properties_come_from_the_settings(tmp_path: Path) -> None:
    kafka = _kafka(tmp_path)
    kafka._write_config()
    props = dict(
        line.split("=", 1) for line in kafka.config.read_text().splitlines() if "=" in line
    )
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19992,CONTROLLER://127.0.0.1:19993"
    assert props["process.roles"] == "broker,controller"
    assert props["auto.create.topics.enable"] == "false"
    assert props["log.dirs"] == str((tmp_path / "kafka" / "data").resolve())


def test_status_of_a_broker_never_started(tmp_path: Path) -> None:
    status = _kafka(tmp_path).status()
    assert not status.running
    assert status.describe() in (
        "stopped",
        "not started here, but a broker answers at 127.0.0.1:19992",
    )


def test_generated_cluster_ids_never_look_like_an_option() -> None:
    from streams.broker.local import _random_cluster_id

    ids = {_random_cluster_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert not any(i.startswith("-") for i in ids)
    assert all(len(i) == 22 for i in ids)


def test_a_topic_is_led_when_every_partition_has_a_leader() -> None:
    from streams.kafka.clients import led_topics

    def topic(name: str, leaders: list[int], error: int = 0) -> dict[str, object]:
        parts = [
            {"partition": i, "leader": leader, "error_code": 0} for i, leader in enumerate(leaders)
        ]
        return {"topic": name, "error_code": error, "partitions": parts}

    described = [
        topic("ready", [1, 1, 1, 1]),
        topic("electing", [1, -1, 1, 1]),  # listed, one partition without a leader yet
        topic("short", [1, 1]),  # fewer partitions in this broker's metadata than created
        topic("missing", [], error=3),  # UNKNOWN_TOPIC_OR_PARTITION
    ]
    wanted = {"ready": 4, "electing": 4, "short": 4, "missing": 4}
    assert led_topics(described, wanted) == ["ready"]
