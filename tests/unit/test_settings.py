from pathlib import Path

import pytest
from pydantic import ValidationError

from streams.settings import Settings


def test_defaults() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.broker == "127.0.0.1:9092"
    assert settings.web_host == "127.0.0.1"
    assert settings.topic("statements") == "statements"


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMS_TOPIC_PREFIX", "prod.")
    monkeypatch.setenv("STREAMS_PARTITIONS", "8")
    monkeypatch.setenv("STREAMS_DATA_DIR", "/tmp/x")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.topic("articles.raw") == "prod.articles.raw"
    assert settings.partitions == 8
    assert settings.kafka_dir == Path("/tmp/x/kafka")


def test_invalid_values_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMS_PARTITIONS", "0")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_settings_are_frozen() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        settings.partitions = 2  # type: ignore[misc]


def test_sasl_options_pass_through_without_leaking_the_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STREAMS_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("STREAMS_SASL_USERNAME", "u")
    monkeypatch.setenv("STREAMS_SASL_PASSWORD", "s3cret")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.kafka_client_options()["sasl_plain_password"] == "s3cret"
    assert "s3cret" not in repr(settings)


def test_changelog_names_and_the_test_for_one() -> None:
    settings = Settings(app_id="news", topic_prefix="")
    assert settings.changelog_topic("speakers") == "news-speakers-changelog"
    assert settings.is_changelog(settings.changelog_topic("statement-ledger"))
    assert not settings.is_changelog("news-statements-by-article")
    assert not settings.is_changelog("other-speakers-changelog")  # another app's
    assert not settings.is_changelog("statements")
