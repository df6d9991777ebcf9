"""With two workers, any worker answers any API request (table reads routed to the owner)."""

from __future__ import annotations

import asyncio
import time
import urllib.request
from typing import Any

import orjson
import pytest

from streams.demo import demo_flow
from streams.settings import Settings
from tests.conftest import SEED
from tests.integration.conftest import Worker, free_port

pytestmark = pytest.mark.integration


def fetch(port: int, path: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=15) as response:
            return response.status, orjson.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, orjson.loads(exc.read())


def test_two_workers_answer_alike(
    kafka: Settings, worker: Worker, tmp_path_factory: pytest.TempPathFactory
) -> None:
    asyncio.run(demo_flow(kafka, SEED, timeout=240))
    total = fetch(kafka.web_port, "/speakers?limit=1000")[1]["total"]
    second_settings = kafka.model_copy(update={"web_port": free_port()})
    second = Worker(second_settings, tmp_path_factory.mktemp("second") / "worker.log").start()
    ports = (kafka.web_port, second_settings.web_port)
    try:
        # the rebalance has settled when each worker owns some speakers, none is shared, and
        # neither is still reading a partition back from its changelog
        deadline = time.monotonic() + 120
        while True:
            shares = [fetch(port, "/speakers?local=1")[1] for port in ports]
            local = [len(share["items"]) for share in shares]
            if all(local) and sum(local) == total and not any(s["recovering"] for s in shares):
                break
            assert time.monotonic() < deadline, f"no settled assignment: {local} of {total}"
            time.sleep(1)
        pages = [fetch(port, "/speakers?limit=1000")[1] for port in ports]
        ids = [sorted(item["id"] for item in page["items"]) for page in pages]
        assert ids[0] == ids[1] and len(ids[0]) == total
        assert not any(page.get("partial") for page in pages), [
            (page.get("missing_partitions"), page.get("missing_workers")) for page in pages
        ]
        for speaker_id in ids[0]:
            # one worker answers from its own partition, the other forwards to it
            for path in (
                f"/speakers/{speaker_id}",
                f"/speakers/{speaker_id}/timeline?bucket=day",
                f"/quotations?speaker={speaker_id}",
            ):
                answers = [fetch(port, path) for port in ports]
                assert [status for status, _ in answers] == [200, 200], path
                assert answers[0][1] == answers[1][1], path
        # each worker's lag metric covers every partition of every topic the agents read,
        # those the other worker holds too
        topics = [
            kafka.topic("articles.raw"),
            kafka.internal_topic("statements-unidentified"),
            kafka.internal_topic("statements-by-article"),
            kafka.internal_topic("speaker-tallies"),
        ]
        expected = {(t, str(p)) for t in topics for p in range(kafka.partitions)}
        for port in ports:
            assert lag_series(port) == expected
    finally:
        second.stop()


def lag_series(port: int) -> set[tuple[str, str]]:
    """The (topic, partition) labels of ``streams_consumer_lag`` in a worker's /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=15) as response:
        text = response.read().decode()
    return {
        (sample.labels["topic"], sample.labels["partition"])
        for family in text_string_to_metric_families(text)
        if family.name == "streams_consumer_lag"
        for sample in family.samples
    }
