"""The same articles give the same table in any order, with one worker or two (issue #17).

The corpus names its speakers the ways news does: a full name in one article, the bare
surname in another, two spellings of one name, a surname the tagger takes for a place. In
one order the full names come first; in the other, last, so that the bare surnames and the
second spelling are published on their own and merged when the registry learns who they are.
"""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from streams.kafka.lag import group_lag
from streams.kafka.tail import tail
from streams.readback import Table, collect, result_offsets
from streams.settings import Settings
from streams.sources.replay import replay
from tests.integration.conftest import Worker, free_port
from tests.integration.test_crash import Snapshot, counted_once, snapshot

pytestmark = pytest.mark.integration

ARTICLES = [
    ("order-1", "Recep Tayyip Erdoğan said on Monday that Turkey would keep its border open."),
    ("order-2", "Speaking in Ankara, Erdogan said the country would not accept new sanctions."),
    ("order-3", "Volodymyr Zelensky said the talks in Geneva had to continue."),
    ("order-4", "Volodymyr Zelenskyy told reporters that more air defence was needed."),
    ("order-5", "Zelensky said on Friday that the front line was holding."),
    ("order-6", "Abbas Araghchi said Iran was ready to resume talks with Europe."),
    ("order-7", "Araghchi said the proposal was unacceptable."),
    ("order-8", "Anna Berg, the mayor of Uppsala, said the bridge would reopen in May."),
]


def idle(settings: Settings, timeout: float = 120) -> None:
    """Wait until the group has nothing left to read on any partition, twice in a row
    three seconds apart (a merge found late is sent after the statements it concerns)."""
    topics = [
        settings.topic("articles.raw"),
        settings.topic("statements"),
        settings.internal_topic("statements-by-article"),
        settings.internal_topic("speaker-tallies"),
    ]
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2:
        assert time.monotonic() < deadline, "the workers did not go idle"
        time.sleep(3)
        lag = asyncio.run(group_lag(settings, settings.app_id, topics))
        quiet = quiet + 1 if not any(lag.values()) else 0


def run(
    kafka: Settings, tmp_path: Path, name: str, order: list[tuple[str, str]], workers: int
) -> tuple[Snapshot, Table]:
    settings = kafka.model_copy(update={"topic_prefix": f"{name}.", "app_id": f"streams-{name}"})
    running = [
        Worker(
            settings.model_copy(
                update={"web_port": free_port(), "data_dir": tmp_path / name / str(n)}
            ),
            tmp_path / f"{name}-{n}.log",
        ).start()
        for n in range(workers)
    ]
    try:
        starts = asyncio.run(result_offsets(settings))
        # one article at a time, each once the one before is counted: the order is the
        # order they are enriched in, whichever partition (and worker) each one lands on
        for article_id, text in order:
            path = tmp_path / f"{name}-{article_id}.jsonl"
            path.write_bytes(orjson.dumps({"article_id": article_id, "text": text}) + b"\n")
            asyncio.run(replay(settings, [path], progress=False))
            asyncio.run(collect(settings, [article_id], starts, timeout=240))
        idle(settings)
        table = asyncio.run(collect(settings, [a for a, _ in order], starts, timeout=240))
        redirect = redirect_of(running[0].settings.web_port, table)
    finally:
        for worker in running:
            worker.stop()
    assert counted_once(table)
    return snapshot(table), redirect


def redirect_of(port: int, table: Table) -> Table:
    """Each merged id's ``GET /speakers/{id}``: a 308 to the speaker it is now."""
    for merged, state in table.states.items():
        if state.merged_into is None:
            continue
        request = urllib.request.Request(f"http://127.0.0.1:{port}/speakers/{merged}")
        opener = urllib.request.build_opener(_NoRedirect())
        with pytest.raises(urllib.error.HTTPError) as answer:
            opener.open(request, timeout=15)
        assert answer.value.code == 308
        assert answer.value.headers["Location"] == f"/speakers/{table.canonical(merged)}"
    return table


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_two_orders_and_one_or_two_workers_give_the_same_table(
    kafka: Settings, tmp_path: Path, validate_wire: Callable[[str, Any], None]
) -> None:
    forward, backward = ARTICLES, ARTICLES[::-1]
    one_forward, _ = run(kafka, tmp_path, "order-f1", forward, workers=1)
    one_backward, merged = run(kafka, tmp_path, "order-b1", backward, workers=1)
    two_forward, _ = run(kafka, tmp_path, "order-f2", forward, workers=2)
    two_backward, _ = run(kafka, tmp_path, "order-b2", backward, workers=2)
    counts, _ = one_forward
    assert counts["person:recep-tayyip-erdogan"] == (2, 2)
    assert counts["person:volodymyr-zelensky"] == (3, 3)
    assert counts["person:abbas-araghchi"] == (2, 2)
    assert one_backward == one_forward
    assert two_forward == one_forward
    assert two_backward == one_forward
    # backwards, the bare surnames (one tagged as a body), and the second spelling of a
    # full name, were published on their own first, then merged
    merged_ids = {k for k, s in merged.states.items() if s.merged_into}
    assert merged_ids == {
        "person:erdogan",
        "org:araghchi",
        "person:zelensky",
        "person:volodymyr-zelenskyy",
    }
    # subscribers see each merge on speaker.merges
    events: list[dict[str, Any]] = []
    backward_settings = kafka.model_copy(update={"topic_prefix": "order-b1."})
    asyncio.run(
        tail(
            backward_settings, "speaker.merges", events.append, from_beginning=True, idle_timeout=2
        )
    )
    for event in events:
        validate_wire("speaker_merge", event["value"])
    assert {e["key"] for e in events} == merged_ids
