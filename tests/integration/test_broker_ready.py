"""`streams broker start` against a broker that runs and answers: ready at once, whatever
its log says (readiness is an answered metadata request)."""

from __future__ import annotations

import pytest

from streams.broker import LocalKafka
from streams.settings import Settings

pytestmark = pytest.mark.integration


def test_start_finds_a_running_broker_ready_however_much_it_has_logged(kafka: Settings) -> None:
    broker = LocalKafka(kafka.model_copy(update={"kafka_start_timeout": 15.0}))
    assert broker.status().running
    # a broker that has logged a few hundred lines since it started (topic deletions are
    # enough): the start-up line is no longer among the last ones
    with broker.log_file.open("a", encoding="utf-8") as log:
        for n in range(400):
            log.write(f"[2026-01-01 00:00:00,000] INFO [stand-in] line {n} of a busy broker\n")
    status = broker.start()
    assert status.running and status.reachable
    assert broker.answers()


def test_a_closed_port_does_not_answer(kafka: Settings) -> None:
    from tests.integration.conftest import free_port

    assert not LocalKafka(kafka.model_copy(update={"kafka_port": free_port()})).answers(1.0)
